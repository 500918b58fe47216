"""The classroom exercises and their grader, behind `tinyrect check`.

  grader.py      the command: finding and importing students' files safely, reports, class CSV
  checking.py    calling a student's function, comparing with the reference and finite differences
  diagnosis.py   naming the mistake from the answer (catalogue of wrong variants, regions, factors)
  catalogue.py   the exercises in lesson order
  <exercise>.py  one module per exercise (tape, gradcheck, linear, conv, maxpool, relu, prelu, variance,
                 measure, backward, init, prelu_init, deep, momentum, moments, capstone): its test
                 cases, its catalogue of typical mistakes with hints in levels, its points per part
  questions.py   the end-of-lesson questions with a short answer (questions01 ... questions10)
  plug.py        use(): a student's own prelu/conv/init pieces as ops on tinyrect's tape
  solutions/     the reference solutions, in the same form as the students' files
The students' stubs are in lessons/exercises/.
"""


def use(source):
    """A student's prelu, conv and init functions as tinyrect ops and layers (see plug.py)."""
    from tinyrect.exercises.plug import use as _use
    return _use(source)
