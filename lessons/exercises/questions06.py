"""Questions of lesson 06 with a short answer.   Check: tinyrect check questions06

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. A 3×3 conv with 128 output channels: n̂ (Eq. 11)?
q1 = ...

# Q2. Channels 3 → 64 → 64 → 128 → 128 → 256, every layer initialized by Eq. (14). The forward
#     product Π_{l=2..L} ½ n_l Var[w_l] = c_2/d_L?
q2 = ...
