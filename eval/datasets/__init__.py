"""What the suites measure on: each dataset's loader, and the data that ships with it.

* ``scenarios/``: the 34 synthetic visits (YAML and README beside their loader), their schema
  and counterfactual copies;
* ``redaction_corpus/``: the synthetic utterances the redaction suite scores, and their builder;
* ``primock57.py``: the PriMock57 consultations (not shipped: ``eval.paths.PRIMOCK_DIRS``);
* ``recordings.py``: real recorded speech, the LibriVox clips and a two-speaker phone call;
* ``speech.py``: speech synthesised with espeak-ng, and test signals with no speech in them;
* ``long_visit.py``: one very long visit made by joining scenarios end to end.
"""
