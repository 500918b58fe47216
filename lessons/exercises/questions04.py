"""Questions of lesson 04 with a short answer.   Check: tinyrect check questions04

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. PReLU with a = -0.5: what is f(-2)?
q1 = ...

# Q2. The paper's 14-layer model with channel-shared PReLU: how many extra parameters (slopes)?
q2 = ...

# Q3. Eq. (15) with a = 1 (a linear unit) and n = 576: the std?
q3 = ...
