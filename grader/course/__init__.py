"""The course wing: what serves a course around single grades.

Class grading (`batch`, in warm graders: `warm`) and its `gradebook`, the `intake` that finds
a student's modules (for a class and Gradescope alike), checkoffs, the student release,
Gradescope and Classroom, stubs, the class report (`class_report` reads a class,
`class_page` renders it) and code similarity. It imports the judging and isolation wings;
nothing imports it but the CLI.
"""
