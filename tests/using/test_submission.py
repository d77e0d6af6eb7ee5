"""src/using/submission.py: a Kaggle submission checked before it is kept."""

import pytest

from using import submission


def test_check_submission_catches_a_broken_file():
    with pytest.raises(RuntimeError, match="ImageId is not 1..3"):
        submission.check_submission("ImageId,Label\n1,3\n3,4\n2,5\n", 3)
    with pytest.raises(RuntimeError, match="labels not 0-9"):
        submission.check_submission("ImageId,Label\n1,3\n2,12\n", 2)
