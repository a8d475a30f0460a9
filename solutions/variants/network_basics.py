"""Known mistakes and correct alternatives for the `network_basics` exercise."""

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (10, 3)

MUTANTS = [
    # --- EnzymeClassifier
    Variant(
        name="relu_after_last_layer",
        description="applies a ReLU to fc4's output too",
        replace=(("        return self.fc4(hidden)  # (B, 4)",
                  "        return self.act3(self.fc4(hidden))  # (B, 4)"),),
        expect="a ReLU follows fc4",
        keeps=("test_classifier_parameters", "test_classifier_relu_modules"),
        knock_on=(("test_classifier_swap", "fix `EnzymeClassifier` first"),),
    ),
    Variant(
        name="softmax_logits",
        description="returns softmax probabilities instead of logits",
        replace=(("        return self.fc4(hidden)  # (B, 4)",
                  "        return self.fc4(hidden).softmax(dim=-1)  # (B, 4)"),),
        expect="softmax probabilities",
        keeps=("test_classifier_parameters", "test_classifier_relu_modules"),
    ),
    Variant(
        name="wrong_hidden_sizes",
        description="uses 128 units in the second hidden layer too",
        replace=(("        self.fc2 = nn.Linear(128, 64)\n        self.fc3 = nn.Linear(64, 32)",
                  "        self.fc2 = nn.Linear(128, 128)\n        self.fc3 = nn.Linear(128, 32)"),),
        expect="the sizes are 20 -> 128 -> 64 -> 32 -> 4",
    ),
    Variant(
        name="missing_layer",
        description="has three linear layers, 20 -> 128 -> 64 -> 4",
        replace=(
            ("        self.fc3 = nn.Linear(64, 32)\n        self.fc4 = nn.Linear(32, NUM_CLASSES)",
             "        self.fc3 = nn.Linear(64, NUM_CLASSES)"),
            ("        hidden = self.act3(self.fc3(hidden))  # (B, 32)\n"
             "        return self.fc4(hidden)  # (B, 4)",
             "        return self.fc3(hidden)  # (B, 4)"),
        ),
        expect="four nn.Linear layers named fc1, fc2, fc3, fc4",
    ),
    Variant(
        name="functional_relu",
        description="calls nn.functional.relu in forward: replace_activations finds nothing to swap",
        replace=(
            ("        self.act1, self.act2, self.act3 = nn.ReLU(), nn.ReLU(), nn.ReLU()\n", ""),
            ("        hidden = self.act1(self.fc1(x))  # (B, 128)\n"
             "        hidden = self.act2(self.fc2(hidden))  # (B, 64)\n"
             "        hidden = self.act3(self.fc3(hidden))  # (B, 32)\n",
             "        hidden = nn.functional.relu(self.fc1(x))  # (B, 128)\n"
             "        hidden = nn.functional.relu(self.fc2(hidden))  # (B, 64)\n"
             "        hidden = nn.functional.relu(self.fc3(hidden))  # (B, 32)\n"),
        ),
        expect="cannot be swapped by replace_activations",
        keeps=("test_classifier_parameters", "test_classifier_logits"),
        knock_on=(("test_classifier_swap", "fix `EnzymeClassifier` first"),),
    ),
    # --- count_trainable_parameters
    Variant(
        name="counts_frozen",
        description="counts every parameter, frozen ones too",
        definitions='''
        def count_trainable_parameters(module):
            return sum(parameter.numel() for parameter in module.parameters())
        ''',
        expect="frozen parameters (requires_grad=False) are counted",
        keeps=("test_count_nested", "test_count_buffers", "test_count_tied"),
    ),
    Variant(
        name="counts_state_dict",
        description="sums the state_dict's tensors: buffers, frozen and tied ones included",
        definitions='''
        def count_trainable_parameters(module):
            return sum(tensor.numel() for tensor in module.state_dict().values())
        ''',
        expect="state_dict",
        keeps=("test_count_nested",),
    ),
    Variant(
        name="recursive_walk_counts_shared_twice",
        description="adds each child's count recursively: a shared layer or tied weight twice",
        definitions='''
        def count_trainable_parameters(module):
            own = sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
            return own + sum(count_trainable_parameters(child) for child in module.children())
        ''',
        expect="a shared parameter is counted twice",
        keeps=("test_count_nested", "test_count_frozen", "test_count_buffers"),
    ),
    Variant(
        name="per_module_walk_counts_tied_twice",
        description="sums each module's own parameters: a weight tied between layers twice",
        definitions='''
        def count_trainable_parameters(module):
            return sum(p.numel() for submodule in module.modules()
                       for p in submodule.parameters(recurse=False) if p.requires_grad)
        ''',
        expect="counted twice",
        keeps=("test_count_nested", "test_count_frozen", "test_count_buffers"),
    ),
    Variant(
        name="weights_only",
        description="counts the weights and forgets the biases",
        definitions='''
        def count_trainable_parameters(module):
            return sum(p.numel() for name, p in module.named_parameters()
                       if p.requires_grad and name.endswith("weight"))
        ''',
        expect="the biases are missing",
    ),
    Variant(
        name="counts_tensors",
        description="counts parameter tensors instead of their elements",
        definitions='''
        def count_trainable_parameters(module):
            return sum(1 for p in module.parameters() if p.requires_grad)
        ''',
        expect="count their elements, p.numel()",
    ),
    Variant(
        name="direct_children_only",
        description="counts the direct children's own parameters, not those nested deeper",
        definitions='''
        def count_trainable_parameters(module):
            return sum(p.numel() for child in module.children()
                       for p in child.parameters(recurse=False) if p.requires_grad)
        ''',
        expect="the parameters of nested modules are missing",
        # Its sum over each child's own parameters also counts a tied weight twice.
        keeps=("test_count_frozen", "test_count_buffers"),
    ),
    # --- replace_activations
    Variant(
        name="top_level_only",
        description="replaces the module's direct children only",
        replace=(("            else:\n                swap_children(child)\n", ""),),
        expect="recurse into every child module, at every depth",
        keeps=("test_classifier_swap",),
    ),
    Variant(
        name="sequential_only",
        description="recurses into nn.Sequential children only",
        replace=(("            else:\n                swap_children(child)\n",
                  "            elif isinstance(child, nn.Sequential):\n"
                  "                swap_children(child)\n"),),
        expect="not only nn.Sequential",
        keeps=("test_classifier_swap",),
    ),
    Variant(
        name="walks_named_children",
        description="walks named_children(), as the old hint said: a module held under two "
                    "names is replaced under the first only",
        replace=(("        for name, child in list(parent.named_modules(remove_duplicate=False)):\n"
                  "            if not name or \".\" in name:\n                continue\n",
                  "        for name, child in list(parent.named_children()):\n"),),
        expect="list a module held under two names once",
        keeps=("test_classifier_swap",),
    ),
    Variant(
        name="exact_type",
        description="compares type(child) is old: subclasses of old stay",
        replace=(("            if isinstance(child, old):", "            if type(child) is old:"),),
        expect="not type(child) is old",
        keeps=("test_replace_nested", "test_classifier_swap"),
    ),
    Variant(
        name="class_name_match",
        description="matches class names: LeakyReLU, ReLU6 and PReLU are replaced too",
        replace=(("            if isinstance(child, old):",
                  "            if old.__name__.lower() in type(child).__name__.lower():"),),
        expect="do not compare class names",
        keeps=("test_replace_nested", "test_classifier_swap"),
    ),
    Variant(
        name="one_shared_instance",
        description="calls new() once and puts that one module everywhere",
        replace=(
            ("    copied = copy.deepcopy(module)\n",
             "    copied = copy.deepcopy(module)\n    replacement = new()\n"),
            ("                setattr(parent, name, new())",
             "                setattr(parent, name, replacement)"),
        ),
        expect="call new() once per replaced module",
        keeps=("test_replace_nested", "test_replace_keeps_parameter_count",
               "test_classifier_swap"),
    ),
    Variant(
        name="in_place",
        description="swaps in the given module and returns it",
        replace=(("    copied = copy.deepcopy(module)\n", "    copied = module\n"),),
        expect="replace in the copy, not in place",
        keeps=("test_replace_nested", "test_classifier_swap"),
    ),
    Variant(
        name="shallow_copy",
        description="starts from copy.copy(module), which shares the submodules",
        replace=(("    copied = copy.deepcopy(module)\n", "    copied = copy.copy(module)\n"),),
        expect="a shallow copy (copy.copy) shares its submodules",
        keeps=("test_replace_nested", "test_classifier_swap"),
    ),
    Variant(
        name="rebuild_sharing_layers",
        description="rebuilds the tree with copy.copy at every level: layers share parameters",
        definitions='''
        def replace_activations(module, old, new):
            result = copy.copy(module)
            result._modules = {}
            for name, child in module._modules.items():
                result._modules[name] = (new() if isinstance(child, old)
                                         else replace_activations(child, old, new))
            return result
        ''',
        expect="shares the parameter",
        keeps=("test_replace_nested", "test_replace_keeps_parameter_count",
               "test_classifier_swap"),
    ),
    Variant(
        name="copies_layer_by_layer",
        description="deep-copies each layer on its own: tied weights come apart",
        definitions='''
        def replace_activations(module, old, new):
            result = copy.copy(module)
            result._modules = {}
            for name, child in module._modules.items():
                if isinstance(child, old):
                    result._modules[name] = new()
                elif child._modules:
                    result._modules[name] = replace_activations(child, old, new)
                else:
                    result._modules[name] = copy.deepcopy(child)
            return result
        ''',
        expect="copy the whole module with one copy.deepcopy(module)",
        keeps=("test_replace_nested", "test_replace_leaves_input_unchanged",
               "test_classifier_swap"),
    ),
]

ALTERNATIVES = [
    Variant(
        name="one_shared_relu_module",
        description="one nn.ReLU module, called three times",
        replace=(
            ("        self.act1, self.act2, self.act3 = nn.ReLU(), nn.ReLU(), nn.ReLU()\n",
             "        self.relu = nn.ReLU()\n"),
            ("        hidden = self.act1(self.fc1(x))  # (B, 128)\n"
             "        hidden = self.act2(self.fc2(hidden))  # (B, 64)\n"
             "        hidden = self.act3(self.fc3(hidden))  # (B, 32)\n",
             "        hidden = self.relu(self.fc1(x))  # (B, 128)\n"
             "        hidden = self.relu(self.fc2(hidden))  # (B, 64)\n"
             "        hidden = self.relu(self.fc3(hidden))  # (B, 32)\n"),
        ),
    ),
    Variant(
        name="loop_forward",
        description="runs the hidden layers in a loop over (layer, activation) pairs",
        replace=((
            "        hidden = self.act1(self.fc1(x))  # (B, 128)\n"
            "        hidden = self.act2(self.fc2(hidden))  # (B, 64)\n"
            "        hidden = self.act3(self.fc3(hidden))  # (B, 32)\n"
            "        return self.fc4(hidden)  # (B, 4)",
            "        pairs = ((self.fc1, self.act1), (self.fc2, self.act2), (self.fc3, self.act3))\n"
            "        for layer, activation in pairs:\n"
            "            x = activation(layer(x))\n"
            "        return self.fc4(x)",
        ),),
    ),
    Variant(
        name="count_unique_by_id",
        description="walks every module's own parameters and keeps each tensor once by id",
        definitions='''
        def count_trainable_parameters(module):
            unique = {}
            for submodule in module.modules():
                for parameter in submodule.parameters(recurse=False):
                    unique[id(parameter)] = parameter
            return int(sum(p.numel() for p in unique.values() if p.requires_grad))
        ''',
    ),
    Variant(
        name="named_modules_recipe",
        description="deep copy, then set each old module found by named_modules on its parent",
        definitions='''
        def replace_activations(module, old, new):
            result = copy.deepcopy(module)
            for path, submodule in list(result.named_modules(remove_duplicate=False)):
                if path and isinstance(submodule, old):
                    parent_path, _, name = path.rpartition(".")
                    setattr(result.get_submodule(parent_path), name, new())
            return result
        ''',
    ),
    Variant(
        name="apply_based",
        description="deep copy, then Module.apply swaps the children of every module, under "
                    "every name (_modules)",
        definitions='''
        def replace_activations(module, old, new):
            def swap(parent):
                for name, child in list(parent._modules.items()):
                    if isinstance(child, old):
                        setattr(parent, name, new())

            return copy.deepcopy(module).apply(swap)
        ''',
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {"EnzymeClassifier": Batched("x")}
