"""The classroom exercises and their grader, behind `tinyrect check`.

  grader.py      the command: settings, one student process per file, class runs, exit codes
  locating.py    where the exercises and the students' files are
  sandbox.py     the parent side of the sandbox: a fresh, limited process per student file
  child.py       the child side: imports the student's file, calls its functions, sends back arrays
  drivers.py     grader code some exercises run in the child around the student's function (build
                 Tensors and run backward, hand over a test function, read an answer's value)
  checking.py    the vocabulary: Case, Part, Variant, Reply, PartResult, the error measure
  judging.py     judging the replies in the grader's own process (reference, finite differences)
  diagnosis.py   naming the mistake from the answer (catalogue of wrong variants, regions, factors)
  reports.py     the student's report, the class CSV, Gradescope's results.json
  attempts.py    --hint auto: one hint level more per failed attempt (counts in the user's cache)
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
