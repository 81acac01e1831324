"""The Tk-free model of a grader's session (`Workstation`); the GUI's panels are views of it."""

from cardgrader.workstation.model import Workstation

__all__ = ["Workstation"]
