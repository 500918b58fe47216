"""Questions of lesson 05 with a short answer.   Check: tinyrect check questions05

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. He init for a 3×3 conv with 64 input channels: the std (Eq. 10)?
q1 = ...

# Q2. Xavier's n·Var[w] = 1 in a 30-layer ReLU net: Eq. (9)'s predicted log2(Var[y_30]/Var[y_1])?
q2 = ...

# Q3. The 0.01 Gaussian on a layer with n = 576: the per-layer factor ½ n Var[w]?
q3 = ...
