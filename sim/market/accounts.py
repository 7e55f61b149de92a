"""Accounts, memos and the bookkeeper: how the market's parts book money in the ledger.

Every account of a platform is ``kind:platform`` (``investor_cash:alpha``); the kinds are
:class:`AccountKind`. Every posting carries a :class:`Memo`, so the statements, the month's flows
and the tests find postings by name, not by a string typed twice. Three memos are made on the fly:
``marketing:<channel>`` (:func:`marketing_memo`), ``staff:<department>`` (:func:`staff_memo`) and
``<fee>_to_<fund>`` (a share of a fee paid into the guarantee's fund).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from sim.ledger import WORLD, Ledger


class AccountKind(StrEnum):
    """The kinds of a platform's ledger accounts (see :mod:`sim.ledger` for what each holds)."""

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
    SERVICE_FEE = "service_fee"
    MANAGEMENT_FEE = "management_fee"
    COLLECTION_FEE = "collection_fee"
    RESERVE_CONTRIBUTION = "reserve_contribution"
    GUARANTEE_FEE = "guarantee_fee"
    REPAYMENT_PRINCIPAL = "repayment_principal"
    REPAYMENT_INTEREST = "repayment_interest"
    HELD_REPAYMENT_PRINCIPAL = "held_repayment_principal"
    HELD_REPAYMENT_INTEREST = "held_repayment_interest"
    DEFAULT_WRITE_OFF = "default_write_off"
    RECOVERY = "recovery"
    HELD_WRITE_OFF = "held_write_off"
    HELD_RECOVERY = "held_recovery"
    GUARANTEE_PAYOUT = "guarantee_payout"
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
    CAPITAL_RAISE = "capital_raise"              # 增资 on a planned date (company.capital_raises)
    TECHNOLOGY = "technology"                    # the company's costs (docs/business-plan.md) ...
    RENT = "rent"
    BRANCHES = "branches"                        # offline branches (线下门店)
    CREDIT_DATA = "credit_data"                  # credit bureau queries (征信)
    VAT = "vat"                                  # 增值税 on fee revenue
    INCOME_TAX = "income_tax"                    # 企业所得税


MARKETING_PREFIX = "marketing:"
STAFF_PREFIX = "staff:"


def marketing_memo(channel: str) -> str:
    """The memo of a marketing channel's spend: ``marketing:<channel>``."""
    return MARKETING_PREFIX + channel


def staff_memo(department: str) -> str:
    """The memo of a department's salaries: ``staff:<department>``."""
    return STAFF_PREFIX + department


class Bookkeeper:
    """Posts the parts' money in the ledger, by platform and account kind.

    Parameters
    ----------
    ledger : Ledger
        The market's ledger.
    platforms : list of Platform
        The market's platforms, in index order.
    """

    def __init__(self, ledger: Ledger, platforms: list) -> None:
        self.ledger = ledger
        self.platforms = platforms
        for platform in platforms:
            for account in platform.accounts.values():
                ledger.open(account)

    def balance(self, platform, kind: AccountKind) -> int:
        """Balance of one platform's account, fen."""
        return self.ledger.balance(platform.account(kind))

    def total(self, kind: AccountKind) -> int:
        """Sum over platforms of one account kind, fen."""
        return sum(self.ledger.balance(p.account(kind)) for p in self.platforms)

    def move(self, platform, source: AccountKind | str, target: AccountKind | str,
             amount_fen: int, memo: str) -> None:
        """Move money between two accounts of ``platform`` (either may be ``world``)."""
        self.ledger.transfer(self._name(platform, source), self._name(platform, target),
                             int(amount_fen), memo)

    def move_each(self, source: AccountKind | str, target: AccountKind | str,
                  amounts_fen: np.ndarray, memo: str) -> None:
        """One posting per platform, ``amounts_fen[p]`` between its ``source`` and ``target``."""
        for platform in self.platforms:
            self.move(platform, source, target, int(amounts_fen[platform.index]), memo)

    def fee(self, platform, fee_fen: int, memo: Memo) -> None:
        """A fee paid to the platform; each protection layer's ``fee_share`` goes to its fund."""
        platform.shareable_fees_fen += fee_fen
        kept = fee_fen
        for layer in platform.layers:
            if layer.fee_share and layer.account:
                to_fund = int(fee_fen * layer.fee_share)
                self.move(platform, WORLD, layer.account, to_fund, f"{memo}_to_{layer.account}")
                kept -= to_fund
        self.move(platform, WORLD, AccountKind.PLATFORM_CASH, kept, memo)

    @staticmethod
    def _name(platform, kind: AccountKind | str) -> str:
        return WORLD if kind == WORLD else platform.account(kind)
