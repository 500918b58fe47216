"""Questions of lesson 01 with a short answer.   Check: tinyrect check questions01

Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;
three significant digits are enough). The open questions of the lesson are not graded.
"""

# Q1. x = Tensor(3.0, requires_grad=True); y = x * x; y.backward(). What is x.grad?
q1 = 6.0

# Q2. The rule of thumb for the best central-difference step: ε ≈ (machine epsilon)^(1/3). What is
#     it for float64 (machine epsilon 2^-52)?
q2 = 6.055454452393343e-06

# Q3. The same for float32 (machine epsilon 2^-23)?
q3 = 0.00492156660115185
