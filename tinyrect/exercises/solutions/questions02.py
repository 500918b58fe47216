"""Questions of lesson 02 with a short answer.   Check: tinyrect check questions02

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. A bias b of shape (3,) is added to Y of shape (5, 3). How many entries of dY are summed into
#     each entry of db?
q1 = 5

# Q2. The error of a central difference shrinks like ε^p. What is p?
q2 = 2
