"""The classroom exercises and their grader, behind `tinyrect check`.

  grader.py      the command: finding and importing students' files safely, reports, class CSV
  checking.py    calling a student's function, comparing with the reference and finite differences
  diagnosis.py   naming the mistake from the answer (catalogue of wrong variants, regions, factors)
  relu.py, prelu.py, linear.py, conv.py, init.py, variance.py
                 one module per exercise: its test cases and its catalogue of typical mistakes
  solutions/     the reference solutions, in the same form as the students' files
The students' stubs are in lessons/exercises/.
"""
