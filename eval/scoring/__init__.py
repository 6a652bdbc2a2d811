"""How a figure is computed from what a stage produced: the yardsticks every suite shares.

* ``wer.py``: text normalisation and word and character error rates;
* ``matching.py`` (with ``words.py`` and ``polarity.py``): a drafted note against gold facts,
  the child's words and opinions;
* ``stats.py`` (with ``bootstrap.py`` and ``paired.py``): metrics overall and by group, bootstrap
  intervals, paired tests and Holm's correction;
* ``sentiment.py`` and ``lexicons/``: the two sentiment scorers and the term lists the bias
  suite compares notes with.
"""
