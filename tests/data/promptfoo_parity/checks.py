"""python assertion files for the promptfoo parity cases: each function answers what
promptfoo's test/assertions/python.test.ts makes its mocked runPython answer."""


def custom_function(output, context):
    return True


def get_assert(output, context):
    return True


def score(output, context):
    return 0.75


def raises(output, context):
    raise RuntimeError("Python error")
