"""Questions of lesson 07 with a short answer.   Check: tinyrect check questions07

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. PReLU a = 0.25 initialized with He-for-ReLU (½ n Var[w] = 1): the per-layer factor ½(1 + a²)
#     n Var[w]?
q1 = ...

# Q2. The same through a 20-layer net: log2 of Eq. (9)'s forward product?
q2 = ...

# Q3. Leaky ReLU a = 0.01 with He-for-ReLU: the per-layer factor?
q3 = ...
