"""Reference solution: the capstone hands the grader the pieces written in the other exercises,
imported (at the top of the file, while its folder is on the import path) from the files next to
this one, as a student's capstone.py imports theirs."""
from conv import conv2d_backward, conv2d_forward
from init import he_std, xavier_std
from prelu import prelu_backward, prelu_forward


def pieces():
    return dict(prelu_forward=prelu_forward, prelu_backward=prelu_backward, conv2d_forward=conv2d_forward,
                conv2d_backward=conv2d_backward, he_std=he_std, xavier_std=xavier_std)
