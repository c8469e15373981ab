"""Two-phase commit, as in Lamport's TwoPhase.tla, written against kspec's model interface.

The TLA+ example (tlaplus/Examples, specifications/transaction_commit/
TwoPhase.tla): a transaction manager (TM) and N resource managers (RMs).
An RM that is working may prepare (sending a Prepared message) or choose to
abort; the TM collects Prepared messages and, once every RM has prepared,
commits, or aborts at any time while it is still deciding; RMs act on the
Commit or Abort message. TLC counts 288 distinct states for 3 RMs and
1,745,408 for 8.

A state is one integer, which is also its fingerprint (it is a perfect,
stable encoding): bits 0..2N-1 hold the RMs' states (two bits each), then two
bits of TM state, N bits of the TM's set of prepared RMs, N bits of the
Prepared messages sent, and one bit each for the Commit and Abort messages.
As in TLC, an action that changes nothing (an RM receiving a Commit it has
already acted on) is not a transition.
"""

from __future__ import annotations

WORKING, PREPARED, COMMITTED, ABORTED = 0, 1, 2, 3
RM_STATES = ("working", "prepared", "committed", "aborted")
TM_INIT, TM_COMMITTED, TM_ABORTED = 0, 1, 2
TM_STATES = ("init", "committed", "aborted")
LABELS = ("RMChooseToAbort", "RMPrepare", "RMRcvAbortMsg", "RMRcvCommitMsg", "TMAbort", "TMCommit", "TMRcvPrepared")


class TwoPhase:
    """Two-phase commit with ``n`` resource managers.

    Two bugs to calibrate the checkers with: ``eager_commit``, the TM commits
    before every RM has prepared (breaks consistency); ``tm_never_aborts``,
    the TM cannot abort, so once an RM has chosen to abort the others wait
    forever (breaks "eventually every RM has decided").
    """

    def __init__(self, n: int, eager_commit: bool = False, tm_never_aborts: bool = False) -> None:
        self.n = n
        self.eager_commit = eager_commit
        self.tm_never_aborts = tm_never_aborts
        self.tm_shift = 2 * n
        self.prepared_shift = self.tm_shift + 2
        self.msg_shift = self.prepared_shift + n
        self.commit_bit = 1 << (self.msg_shift + n)
        self.abort_bit = self.commit_bit << 1
        self.all_rms = (1 << n) - 1

    def initial_states(self) -> list[int]:
        """Every RM working, the TM deciding, no messages."""
        return [0]

    def rm(self, s: int, r: int) -> int:
        """RM ``r``'s state."""
        return (s >> (2 * r)) & 3

    def tm(self, s: int) -> int:
        """The TM's state."""
        return (s >> self.tm_shift) & 3

    def _set_rm(self, s: int, r: int, value: int) -> int:
        return (s & ~(3 << (2 * r))) | (value << (2 * r))

    def successors(self, s: int) -> list[tuple[tuple[str, int], int]]:
        """Every action that changes the state, with the state it leads to."""
        out: list[tuple[tuple[str, int], int]] = []
        tm = self.tm(s)
        prepared = (s >> self.prepared_shift) & self.all_rms
        msgs = (s >> self.msg_shift) & self.all_rms
        if tm == TM_INIT:
            for r in range(self.n):
                if msgs >> r & 1 and not prepared >> r & 1:
                    out.append((("TMRcvPrepared", r), s | (1 << (self.prepared_shift + r))))
            if prepared == self.all_rms or (self.eager_commit and prepared):
                out.append((("TMCommit", -1), (s & ~(3 << self.tm_shift)) | (TM_COMMITTED << self.tm_shift) | self.commit_bit))
            if not self.tm_never_aborts:
                out.append((("TMAbort", -1), (s & ~(3 << self.tm_shift)) | (TM_ABORTED << self.tm_shift) | self.abort_bit))
        for r in range(self.n):
            state = self.rm(s, r)
            if state == WORKING:
                out.append((("RMPrepare", r), self._set_rm(s, r, PREPARED) | (1 << (self.msg_shift + r))))
                out.append((("RMChooseToAbort", r), self._set_rm(s, r, ABORTED)))
            if s & self.commit_bit and state != COMMITTED:
                out.append((("RMRcvCommitMsg", r), self._set_rm(s, r, COMMITTED)))
            if s & self.abort_bit and state != ABORTED:
                out.append((("RMRcvAbortMsg", r), self._set_rm(s, r, ABORTED)))
        return out

    def actions(self, s: int) -> list[tuple[str, int]]:
        """The enabled actions."""
        return [a for a, _ in self.successors(s)]

    def next_state(self, s: int, action: tuple[str, int]) -> int:
        """The state ``action`` leads to."""
        for a, t in self.successors(s):
            if a == action:
                return t
        raise ValueError(f"not enabled: {action}")

    def fingerprint(self, s: int) -> int:
        """The state itself: a perfect encoding in fewer than 64 bits for n <= 8."""
        return s

    def action_component(self, action: tuple[str, int]) -> str:
        """The TM, or the RM that acts."""
        return "TM" if action[0].startswith("TM") else f"RM{action[1]}"

    def action_label(self, action: tuple[str, int]) -> str:
        """The action's name, without the RM."""
        return action[0]

    def action_labels(self) -> list[str]:
        """Every action name."""
        return list(LABELS)

    def consistent(self, s: int) -> str | None:
        """TCConsistent: no RM has committed while another has aborted."""
        states = {self.rm(s, r) for r in range(self.n)}
        if COMMITTED in states and ABORTED in states:
            return "one RM committed while another aborted"
        return None

    def decided(self, s: int, successors: object = ()) -> bool:
        """Every RM has committed or aborted (the good states of the eventual property)."""
        return all(self.rm(s, r) in (COMMITTED, ABORTED) for r in range(self.n))
