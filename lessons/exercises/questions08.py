"""Questions of lesson 08 with a short answer.   Check: tinyrect check questions08

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. VGG-like 3×3 conv with d = 256 output channels, initialized by Eq. (14): the std?
q1 = ...

# Q2. The std 0.01 vs that derived std: the ratio of the per-layer variance factors, (0.01/std)²?
q2 = ...
