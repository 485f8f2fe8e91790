"""The one error type for bad input data: it always names the file, the line and the problem."""


class BadInput(Exception):
    """A problem with one input file (or one line of it).

    str() gives the one-line message shown to users: "path:line: problem" (line omitted when
    the problem is the whole file).
    """

    def __init__(self, path, problem, line=None):
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # picklable across Beam workers
        return (BadInput, (self.path, self.problem, self.line))

    @property
    def reason(self):
        """A short grouping key for reports: the problem without its specific numbers."""
        return self.problem.split(":")[0]
