"""Reference solutions of the classroom exercises (instructor copy), one file per exercise, written
in the same form as the student files in lessons/exercises/ so that `tinyrect check --solutions`
grades them exactly as it grades a student. The grader compares every answer with these."""
