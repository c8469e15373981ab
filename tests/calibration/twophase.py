"""Two-phase commit, as in Lamport's TwoPhase.tla, written against kspec's model interface.

The TLA+ example (tlaplus/Examples, specifications/transaction_commit/
TwoPhase.tla): a transaction manager (TM) and N resource managers (RMs).
An RM that is working may prepare (sending a Prepared message) or choose to
abort; the TM collects Prepared messages and, once every RM has prepared,
commits, or aborts at any time while it is still deciding; RMs act on the
Commit or Abort message. TLC counts 288 distinct states for 3 RMs and
1,745,408 for 8.

Written as guarded commands over bit fields (``checker.guarded``), so the
explorer can search it state by state or a level at a time
(``checker.vector``). A state is one integer, which is also its fingerprint:
two bits per RM state, two bits of TM state, one bit per RM in the TM's set
of prepared RMs, one per Prepared message sent, and one each for the Commit
and Abort messages. As in TLC, an action that changes nothing (an RM
receiving a Commit it has already acted on) is not a transition.
"""

from __future__ import annotations

from checker.guarded import Command, GuardedModel, Layout, Patterns

WORKING, PREPARED, COMMITTED, ABORTED = 0, 1, 2, 3
RM_STATES = ("working", "prepared", "committed", "aborted")
TM_INIT, TM_COMMITTED, TM_ABORTED = 0, 1, 2
TM_STATES = ("init", "committed", "aborted")
LABELS = ("RMChooseToAbort", "RMPrepare", "RMRcvAbortMsg", "RMRcvCommitMsg", "TMAbort", "TMCommit", "TMRcvPrepared")
CONSISTENT = "one RM committed while another aborted"


def _layout(n: int) -> Layout:
    rms = [(f"rm{r}", 2) for r in range(n)]
    prepared = [(f"prepared{r}", 1) for r in range(n)]
    msgs = [(f"msg{r}", 1) for r in range(n)]
    return Layout([*rms, ("tm", 2), *prepared, *msgs, ("commit", 1), ("abort", 1)])


def _rm_commands(layout: Layout, r: int) -> list[Command]:
    """RMPrepare, RMChooseToAbort, RMRcvCommitMsg, RMRcvAbortMsg of RM ``r``; TMRcvPrepared of its message."""
    rm, who = f"rm{r}", f"RM{r}"
    return [
        layout.command(("TMRcvPrepared", r), "TM", [{"tm": TM_INIT, f"msg{r}": 1}], {f"prepared{r}": 1}),
        layout.command(("RMPrepare", r), who, [{rm: WORKING}], {rm: PREPARED, f"msg{r}": 1}),
        layout.command(("RMChooseToAbort", r), who, [{rm: WORKING}], {rm: ABORTED}),
        layout.command(("RMRcvCommitMsg", r), who, [{"commit": 1}], {rm: COMMITTED}),
        layout.command(("RMRcvAbortMsg", r), who, [{"abort": 1}], {rm: ABORTED}),
    ]


def _strengthening(layout: Layout, n: int) -> list[tuple[int, int]]:
    """The bad states of the lemmas that make TCConsistent inductive (as TLA+ proofs of TwoPhase strengthen it).

    The TM's state is one of three; a Commit (Abort) message means the TM
    committed (aborted); a committed RM has seen Commit; the TM counts only
    RMs whose Prepared message it has; only a working RM has sent no
    Prepared message; a committed TM has every RM prepared; an RM that
    prepared and then aborted has seen Abort.
    """
    bad = [{"tm": 3}, {"commit": 1, "tm": TM_INIT}, {"commit": 1, "tm": TM_ABORTED}, {"abort": 1, "tm": TM_INIT}, {"abort": 1, "tm": TM_COMMITTED}]
    for r in range(n):
        rm, prepared, msg = f"rm{r}", f"prepared{r}", f"msg{r}"
        bad += [{rm: COMMITTED, "commit": 0}, {prepared: 1, msg: 0}, {msg: 1, rm: WORKING}, {"tm": TM_COMMITTED, prepared: 0}]
        bad += [{rm: ABORTED, msg: 1, "abort": 0}]
    return [layout.pattern(b) for b in bad]


class TwoPhase(GuardedModel):
    """Two-phase commit with ``n`` resource managers.

    Two bugs to calibrate the checkers with: ``eager_commit``, the TM commits
    once any RM has prepared (breaks consistency); ``tm_never_aborts``, the TM
    cannot abort, so once an RM has chosen to abort the others wait forever
    (breaks "eventually every RM has decided").
    """

    def __init__(self, n: int, eager_commit: bool = False, tm_never_aborts: bool = False) -> None:
        self.n = n
        layout = _layout(n)
        commands = [c for r in range(n) for c in _rm_commands(layout, r)]
        everyone = [{"tm": TM_INIT, **{f"prepared{r}": 1 for r in range(n)}}]
        anyone = [{"tm": TM_INIT, f"prepared{r}": 1} for r in range(n)]
        commands.append(layout.command(("TMCommit", -1), "TM", anyone if eager_commit else everyone, {"tm": TM_COMMITTED, "commit": 1}))
        if not tm_never_aborts:
            commands.append(layout.command(("TMAbort", -1), "TM", [{"tm": TM_INIT}], {"tm": TM_ABORTED, "abort": 1}))
        super().__init__(layout, [{}], commands)
        split = [layout.pattern({f"rm{a}": COMMITTED, f"rm{b}": ABORTED}) for a in range(n) for b in range(n) if a != b]
        self.invariants = Patterns((("consistent", CONSISTENT, tuple(split)),))
        """TCConsistent, as the patterns of its bad states"""
        self.inductive = Patterns((("consistent-inductive", "TCConsistent strengthened", tuple(split + _strengthening(layout, n))),))
        """TCConsistent and the facts that make it inductive (a k-induction proof needs k = 1)"""

    def rm(self, s: int, r: int) -> int:
        """RM ``r``'s state."""
        return self.layout.get(s, f"rm{r}")

    def consistent(self, s: int) -> str | None:
        """TCConsistent: no RM has committed while another has aborted."""
        return CONSISTENT if self.invariants.check_state(s) else None

    def decided(self, s: int, successors: object = ()) -> bool:
        """Every RM has committed or aborted (the good states of the eventual property)."""
        return all(self.rm(s, r) in (COMMITTED, ABORTED) for r in range(self.n))
