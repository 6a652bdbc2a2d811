"""Record or replay llama-cpp chat completions, keyed by the full request.

LLMTAP_MODE=record|replay, LLMTAP_DIR=folder. Record calls the model and keeps each answer;
replay answers from the kept ones and notes any request it has not seen (then calls the model).
Used to show that two versions of the code send the model the same requests and turn the same
answers into the same notes, with one real (slow) pass.
"""
import hashlib
import json
import os
from pathlib import Path

_mode = os.environ.get("LLMTAP_MODE")
if _mode in ("record", "replay"):
    import llama_cpp

    _dir = Path(os.environ["LLMTAP_DIR"])
    _dir.mkdir(parents=True, exist_ok=True)
    _real = llama_cpp.Llama.create_chat_completion

    def _key(self, args, kwargs):
        req = {"model": os.path.basename(getattr(self, "model_path", "")),
               "n_ctx": self.n_ctx(), "args": args, "kwargs": kwargs}
        blob = json.dumps(req, sort_keys=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest(), blob

    def create_chat_completion(self, *args, **kwargs):
        key, blob = _key(self, args, kwargs)
        path = _dir / f"{key}.json"
        with open(_dir / f"calls-{_mode}.log", "a") as log:
            log.write(key + "\n")
        if _mode == "replay" and path.exists():
            return json.loads(path.read_text())["response"]
        if _mode == "replay":
            with open(_dir / "misses.log", "a") as log:
                log.write(key + "\t" + blob[:2000].replace("\n", "\\n") + "\n")
        resp = _real(self, *args, **kwargs)
        if _mode == "record":
            path.write_text(json.dumps({"request": json.loads(blob), "response": resp}))
        return resp

    llama_cpp.Llama.create_chat_completion = create_chat_completion
