"""The exercises in lesson order: (name, lesson). Each name is a module tinyrect.exercises.<name>
(its checks) with a student stub lessons/exercises/<name>.py and a reference
tinyrect/exercises/solutions/<name>.py."""

LESSONS = (
    ("tape", "01"),
    ("gradcheck", "02"), ("linear", "02"),
    ("conv", "03"), ("maxpool", "03"),
    ("relu", "04"), ("prelu", "04"),
    ("variance", "05"), ("measure", "05"),
    ("backward", "06"),
    ("init", "07"), ("prelu_init", "07"),
    ("deep", "08"),
    ("momentum", "09"), ("capstone", "09"),
    ("moments", "10"),
)
EXERCISES = tuple(name for name, _ in LESSONS)
