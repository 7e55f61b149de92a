"""The ledger: every movement of money, in integer fen, between accounts of the platforms.

An account is a platform's account of one :class:`AccountKind` (``investor_cash`` of platform 3).
The ledger keeps one int64 vector per kind, a balance per platform, and a scalar for ``world``, the
outside world (borrowers' income and spending, banks, suppliers, the operators who fled). A posting
moves an amount from one account to another of the same platform, or to or from ``world``; either
one amount (:meth:`Ledger.transfer`, a platform of the market's detail) or a vector of amounts, one
per platform (:meth:`Ledger.post`, the same flow on every platform of an industry at once). So the
sum of all balances never changes: it is zero from the first day, and ``world`` is the only account
that may go negative.

Every posting carries a :class:`Memo` (what it is for; the marketing spend and the staff costs also
name their channel or department) and is kept in the journal, summed by period, source, target and
memo, one amount per platform. The period is a day for a market, a month for an industry of
thousands of platforms (``journal_days``); statements and the monthly flows need no finer.

Account kinds
-------------
world                 the outside world
investor_cash         investors' uninvested cash on a platform (出借人账户余额)
investor_committed    cash bid on listings still in their funding window (投标冻结)
investor_claims       outstanding principal of the loans investors own (待收本金)
platform_cash         the platform's own operating cash (自有资金)
reserve_fund          the risk reserve fund (风险准备金)
guarantor_capital     a third-party guarantor's capital (担保公司资本金)
held_claims           outstanding principal held by the reserve fund (after 代偿) or the fund pool
guarantor_claims      outstanding principal a guarantor took over by paying (代偿债权)
insurer_claims        outstanding principal an outside insurer took over by paying
pool_cash             a fund pool's cash (资金池): products sold, repayments in, redemptions out
withdrawals_queued    withdrawals asked for and not yet paid (提现处理中, runs: docs/runs.md)
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd


class LedgerError(RuntimeError):
    """Raised when a posting or an audit would break the books."""


class AccountKind(StrEnum):
    """The kinds of ledger accounts: one balance per platform each, and ``world``."""

    WORLD = "world"                            # the outside world (one account, may be negative)
    INVESTOR_CASH = "investor_cash"            # 出借人账户余额
    INVESTOR_COMMITTED = "investor_committed"  # 投标冻结
    INVESTOR_CLAIMS = "investor_claims"        # 待收本金
    PLATFORM_CASH = "platform_cash"            # 自有资金
    RESERVE_FUND = "reserve_fund"              # 风险准备金
    GUARANTOR_CAPITAL = "guarantor_capital"    # 担保公司资本金
    HELD_CLAIMS = "held_claims"                # claims held by the reserve fund or the fund pool
    GUARANTOR_CLAIMS = "guarantor_claims"      # claims a guarantor took over by paying (代偿债权)
    INSURER_CLAIMS = "insurer_claims"          # claims an outside insurer took over by paying
    POOL_CASH = "pool_cash"                    # 资金池
    WITHDRAWALS_QUEUED = "withdrawals_queued"  # 提现处理中: asked for, not yet paid


WORLD = AccountKind.WORLD
KINDS = frozenset(AccountKind)
FEW_PLATFORMS = 8  # up to this many platforms a vector posting is a loop of single ones
PLATFORM_KINDS = tuple(kind for kind in AccountKind if kind != WORLD)
HELD_KINDS = (AccountKind.HELD_CLAIMS, AccountKind.GUARANTOR_CLAIMS, AccountKind.INSURER_CLAIMS)
"""The accounts of loans' held parts (``loans.held_fen``), by who holds them."""


class Memo(StrEnum):
    """What a posting is for (the journal's ``memo`` column)."""

    CAPITAL_INJECTION = "capital_injection"
    RESERVE_INITIAL = "reserve_initial"
    GUARANTOR_CAPITAL_INJECTION = "guarantor_capital_injection"
    OPENING_BOOK = "opening_book"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    WITHDRAWAL_FEE = "withdrawal_fee"
    OPERATING_COST = "operating_cost"
    COLLECTION_COST = "collection_cost"
    INSURANCE_PREMIUM = "insurance_premium"
    BID = "bid"
    DISBURSEMENT = "disbursement"
    POOL_DISBURSEMENT = "pool_disbursement"
    FAILED_LISTING_RELEASE = "failed_listing_release"
    SERVICE_FEE = "service_fee"                  # 借款服务费: borrowers', a share of principal
    MANAGEMENT_FEE = "management_fee"            # 利息管理费: investors', a share of interest
    SERVICE_FEE_TO_RESERVE_FUND = "service_fee_to_reserve_fund"  # a fee's share into a fund ...
    SERVICE_FEE_TO_GUARANTOR_CAPITAL = "service_fee_to_guarantor_capital"
    MANAGEMENT_FEE_TO_RESERVE_FUND = "management_fee_to_reserve_fund"
    MANAGEMENT_FEE_TO_GUARANTOR_CAPITAL = "management_fee_to_guarantor_capital"
    COLLECTION_FEE = "collection_fee"
    RESERVE_CONTRIBUTION = "reserve_contribution"  # a borrower's payment into a layer's fund
    GUARANTEE_FEE = "guarantee_fee"
    REPAYMENT_PRINCIPAL = "repayment_principal"
    REPAYMENT_INTEREST = "repayment_interest"
    HELD_REPAYMENT_PRINCIPAL = "held_repayment_principal"
    HELD_REPAYMENT_INTEREST = "held_repayment_interest"
    DEFAULT_WRITE_OFF = "default_write_off"
    RECOVERY = "recovery"
    HELD_WRITE_OFF = "held_write_off"
    HELD_RECOVERY = "held_recovery"
    GUARANTEE_PAYOUT = "guarantee_payout"        # 代偿: a layer buys a defaulted loan's notes
    CLAIM_TO_GUARANTEE = "claim_to_guarantee"
    TRANSFER_FEE = "transfer_fee"
    PRODUCT_REDEMPTION = "product_redemption"
    PRODUCT_SUBSCRIPTION = "product_subscription"
    RESERVE_SIZING_FLOAT = "reserve_sizing_float"
    RESERVE_TOP_UP = "reserve_top_up"            # platform cash into its reserve (a funding rule)
    RESERVE_RELEASE = "reserve_release"          # the reserve's excess over its cap, back to cash
    CAPITAL_CALL = "capital_call"                # owners put more in (增资) when cash runs out
    WITHDRAWAL_REQUEST = "withdrawal_request"    # idle cash into the withdrawal queue
    POOL_SUPPORT = "pool_support"                # own cash lent to the fund pool for redemptions
    FIRE_SALE = "fire_sale"                      # loans sold to outsiders, at their price ...
    FIRE_SALE_LOSS = "fire_sale_loss"            # ... and the discount written off
    TRANSFER_PAYMENT = "transfer_payment"        # 债权转让: a buyer pays the seller (same account)
    CUSTODY_FEE = "custody_fee"                  # 存管费 to the custodian bank
    DIVERSION = "diversion"                      # 挪用: pooled money taken for the owners' projects
    TAKEN_BY_OPERATORS = "taken_by_operators"    # 跑路: money the operators left with
    FLIGHT_TO_QUALITY = "flight_to_quality"      # withdrawn money deposited on trusted platforms
    STOLEN_IN_BREACH = "stolen_in_breach"        # 黑客攻击: money attackers took
    BREACH_REMEDIATION = "breach_remediation"    # forensics, repairs, notifications after a breach
    CAPITAL_RAISE = "capital_raise"              # 增资 on a planned date (company.capital_raises)
    TECHNOLOGY = "technology"                    # the company's costs (docs/business-plan.md) ...
    RENT = "rent"
    BRANCHES = "branches"                        # offline branches (线下门店)
    CREDIT_DATA = "credit_data"                  # credit bureau queries (征信)
    VAT = "vat"                                  # 增值税 on fee revenue, less input credit
    VAT_SURCHARGE = "vat_surcharge"              # 税金及附加: city construction and education
    INCOME_TAX = "income_tax"                    # 企业所得税
    MARKETING = "marketing"                      # a marketing channel's spend (detail: channel)
    STAFF = "staff"                              # a department's salaries (detail: department)

    def into_fund(self, fund: AccountKind) -> Memo:
        """The memo of this fee's share paid into a protection layer's ``fund`` (``<fee>_to_<fund>``)."""
        return Memo(f"{self.value}_to_{AccountKind(fund).value}")


FEE_OF_SHARE = {Memo.SERVICE_FEE.into_fund(fund): Memo.SERVICE_FEE
                for fund in (AccountKind.RESERVE_FUND, AccountKind.GUARANTOR_CAPITAL)} | {
    Memo.MANAGEMENT_FEE.into_fund(fund): Memo.MANAGEMENT_FEE
    for fund in (AccountKind.RESERVE_FUND, AccountKind.GUARANTOR_CAPITAL)}
"""A fee's share paid into a protection layer's fund, and the fee it is a share of."""

DETAILED_MEMOS = (Memo.MARKETING, Memo.STAFF)
"""Memos that name what they are for in their text: ``marketing:<channel>``, ``staff:<department>``."""
MARKETING_PREFIX = f"{Memo.MARKETING}:"
STAFF_PREFIX = f"{Memo.STAFF}:"


def memo_text(memo: Memo, detail: str = "") -> str:
    """A memo as the journal's ``memo`` column shows it (``marketing:search`` with its detail)."""
    if memo in DETAILED_MEMOS:
        if not detail:
            raise LedgerError(f"a {memo.value} posting names its channel or department")
        return f"{memo.value}:{detail}"
    if not isinstance(memo, Memo):
        raise LedgerError(f"{memo!r}: a posting's memo is a Memo")
    return memo.value


class Ledger:
    """Integer-fen double entry: one balance per platform per account kind, and ``world``.

    Parameters
    ----------
    platforms : sequence of str
        The platforms' names, by index (they name the accounts in the journal: ``investor_cash:a``).
    journal_days : int
        The journal's period in days: 1 (a market) or 30 (an industry's thousands of platforms).
    """

    def __init__(self, platforms, journal_days: int = 1) -> None:
        self.names = [str(name) for name in platforms]
        n = len(self.names)
        self._matrix = np.zeros((len(PLATFORM_KINDS), n), dtype=np.int64)  # a row per kind
        self.accounts = {kind: self._matrix[i] for i, kind in enumerate(PLATFORM_KINDS)}
        self.world = 0
        self.day = 0
        self.journal_days = int(journal_days)
        self._journal: dict[tuple[int, AccountKind, AccountKind, str], np.ndarray] = {}
        self._flows: dict[tuple, tuple[AccountKind, AccountKind, str]] = {}

    @property
    def platforms(self) -> int:
        """How many platforms hold accounts."""
        return len(self.names)

    def _entry(self, source: AccountKind, target: AccountKind, memo: Memo,
               detail: str) -> np.ndarray:
        """The journal's amounts of today's period for this flow (checked before any money moves)."""
        flow = self._flows.get((source, target, memo, detail))
        if flow is None:  # a flow seen for the first time is checked, then remembered
            if source not in KINDS or target not in KINDS:
                raise LedgerError(f"unknown account kind in a posting {source} -> {target} "
                                  f"({memo}); allowed: {', '.join(sorted(KINDS))}")
            flow = self._flows[(source, target, memo, detail)] = (source, target,
                                                                  memo_text(memo, detail))
        key = (self.day - self.day % self.journal_days, *flow)
        entry = self._journal.get(key)
        if entry is None:
            entry = self._journal[key] = np.zeros(len(self.names), dtype=np.int64)
        return entry

    def transfer(self, platform: int, source: AccountKind, target: AccountKind, amount_fen: int,
                 memo: Memo, detail: str = "") -> None:
        """Move ``amount_fen`` (>= 0) from ``source`` to ``target``, accounts of ``platform``.

        Raises
        ------
        LedgerError
            If the amount is negative, or ``source`` (other than ``world``) would go below zero.
        """
        amount = int(amount_fen)
        if amount == 0 or source == target == WORLD:
            return
        if amount < 0:
            raise LedgerError(f"negative transfer {amount} fen from {self._name(source, platform)} "
                              f"to {self._name(target, platform)} ({memo})")
        entry = self._entry(source, target, memo, detail)
        if source == WORLD:
            self.world -= amount
        else:
            account = self.accounts[source]
            held = int(account[platform])
            if held < amount:
                raise LedgerError(
                    f"{self._name(source, platform)} holds {held} fen, cannot pay {amount} fen to "
                    f"{self._name(target, platform)} ({memo}) on day {self.day}")
            account[platform] = held - amount
        if target == WORLD:
            self.world += amount
        else:
            self.accounts[target][platform] += amount
        entry[platform] += amount

    def post(self, source: AccountKind, target: AccountKind, amounts_fen: np.ndarray, memo: Memo,
             detail: str = "") -> None:
        """Move ``amounts_fen[p]`` (>= 0) from ``source`` to ``target`` of every platform ``p``.

        Raises
        ------
        LedgerError
            If an amount is negative or a platform's ``source`` account would go below zero.
        """
        amounts = np.asarray(amounts_fen)
        if amounts.shape != (len(self.names),):
            raise LedgerError(f"{memo}: {amounts.shape} amounts for {len(self.names)} platforms")
        if len(self.names) <= FEW_PLATFORMS:  # a market's few: plain numbers cost less than numpy's
            self._post_few(source, target, amounts.tolist(), memo, detail)
            return
        amounts = amounts.astype(np.int64, copy=False)
        if (amounts < 0).any():
            p = int(np.flatnonzero(amounts < 0)[0])
            raise LedgerError(f"negative transfer {amounts[p]} fen from {self._name(source, p)} "
                              f"to {self._name(target, p)} ({memo})")
        total = int(amounts.sum())
        if total == 0:
            return
        entry = self._entry(source, target, memo, detail)
        if source == WORLD:
            self.world -= total
        else:
            account = self.accounts[source]
            short = account < amounts
            if short.any():
                p = int(np.flatnonzero(short)[0])
                raise LedgerError(f"{self._name(source, p)} holds {account[p]} fen, cannot pay "
                                  f"{amounts[p]} fen to {self._name(target, p)} ({memo}) on day "
                                  f"{self.day}")
            account -= amounts
        if target == WORLD:
            self.world += total
        else:
            self.accounts[target] += amounts
        entry += amounts

    def _post_few(self, source: AccountKind, target: AccountKind, amounts: list, memo: Memo,
                  detail: str) -> None:
        """:meth:`post` for a few platforms: every amount checked, then each one transferred."""
        for p, amount in enumerate(amounts):
            if amount < 0 or (source != WORLD and self.accounts[source][p] < amount):
                self.transfer(p, source, target, amount, memo, detail)  # raises, naming it
        for p, amount in enumerate(amounts):
            if amount:
                self.transfer(p, source, target, amount, memo, detail)

    def balance(self, kind: AccountKind, platform: int) -> int:
        """Balance of one platform's account of ``kind`` (or of ``world``), fen."""
        return self.world if kind == WORLD else int(self.accounts[kind][platform])

    def total_of(self, kind: AccountKind) -> int:
        """Sum over platforms of one account kind, fen."""
        return int(self.accounts[kind].sum())

    def balances(self) -> dict[str, int]:
        """Every account's balance by name (``investor_cash:a``; ``world``), fen."""
        named = {str(WORLD): self.world}
        for kind, values in self.accounts.items():
            named.update({self._name(kind, p): int(v) for p, v in enumerate(values)})
        return named

    def total(self) -> int:
        """Sum of all balances, fen; zero while no money has been created or lost."""
        return self.world + int(self._matrix.sum())

    def check(self) -> None:
        """Raise :class:`LedgerError` unless the books balance to the fen and no account is negative."""
        total = self.total()
        if total != 0:
            raise LedgerError(f"ledger out of balance by {total} fen on day {self.day}")
        if self._matrix.min(initial=0) < 0:
            row, p = (int(i) for i in np.argwhere(self._matrix < 0)[0])
            kind = PLATFORM_KINDS[row]
            raise LedgerError(f"negative balances on day {self.day}: {self._name(kind, p)} "
                              f"{int(self._matrix[row, p])}")

    def journal(self, since_day: int | None = None, platforms: int | None = None) -> pd.DataFrame:
        """The journal: a row per period, source account, target account and memo, in fen.

        Rows come in the order their (source, target, memo) was first posted in the period, then
        by platform. The ``day`` is the period's first day. With ``since_day``, only the periods
        from it on: read from the end, so a month's rows cost that month, not the run. With
        ``platforms``, only the first ``platforms`` platforms' accounts (a market's detailed ones).
        """
        keys = list(self._journal)
        if since_day is not None:
            first = len(keys)
            while first > 0 and keys[first - 1][0] >= since_day:
                first -= 1
            keys = keys[first:]
        days, sources, targets, memos, amounts = [], [], [], [], []
        for key in keys:
            entry = self._journal[key]
            platforms_ = np.flatnonzero(entry if platforms is None else entry[:platforms])
            if not len(platforms_):
                continue
            day, source, target, memo = key
            days.append(np.full(len(platforms_), day, dtype=np.int64))
            sources += [self._name(source, p) for p in platforms_]
            targets += [self._name(target, p) for p in platforms_]
            memos += [memo] * len(platforms_)
            amounts.append(entry[platforms_])
        empty = np.zeros(0, dtype=np.int64)
        return pd.DataFrame({"day": np.concatenate(days) if days else empty, "source": sources,
                             "target": targets, "memo": memos,
                             "amount_fen": np.concatenate(amounts) if amounts else empty})

    def _name(self, kind: AccountKind, platform: int) -> str:
        return str(WORLD) if kind == WORLD else f"{kind}:{self.names[platform]}"
