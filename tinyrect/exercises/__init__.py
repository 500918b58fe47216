"""The classroom exercises and their grader, behind `tinyrect check`.

  grader.py      the command: settings, one student process per file, class runs, exit codes
  locating.py    where the exercises and the students' files are
  sandbox.py     the parent side of the sandbox: a fresh, limited process per student file
  child.py       the child side: imports the student's file, calls its functions, sends back arrays
  checking.py    the vocabulary: Case, Part, Variant, Reply, PartResult, the error measure
  judging.py     judging the replies in the grader's own process (reference, finite differences)
  diagnosis.py   naming the mistake from the answer (catalogue of wrong variants, regions, factors)
  reports.py     the student's report, the class CSV, Gradescope's results.json
  relu.py, prelu.py, linear.py, conv.py, init.py, variance.py
                 one module per exercise: its test cases and its catalogue of typical mistakes
  solutions/     the reference solutions, in the same form as the students' files
The students' stubs are in lessons/exercises/.
"""
