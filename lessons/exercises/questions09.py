"""Questions of lesson 09 with a short answer.   Check: tinyrect check questions09

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. Momentum μ = 0.9, constant gradient g, learning rate ε: the velocity tends to k·ε·g. What is
#     k?
q1 = ...

# Q2. Channel-wise PReLU after a conv layer with 64 output channels: how many slopes?
q2 = ...
