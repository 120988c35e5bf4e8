"""Why a rule exists, per category, in English and Chinese: the "Why" of a hit when its rule gives
no ``reason`` of its own. A hit's title says what happened; this says why it is not allowed (the
citation names the law or policy)."""

from __future__ import annotations

from qa_rules.packs import Rule

CATEGORY_REASON: dict[str, dict[str, str]] = {
    "en": {
        "profanity": "Obscene or profane language is abusive conduct a collector may not use.",
        "insult": "Calling the debtor names is abuse: a collector may not insult or degrade the person.",
        "threat": "Threats of violence or harm are forbidden in debt collection.",
        "false_legal": (
            "Threatening arrest, criminal charges or action that cannot or will not be taken is a "
            "false or misleading representation."
        ),
        "third_party": "The debt may not be discussed with, or revealed to, third parties.",
        "public_shaming": "Publishing or posting a debtor's name or debt is forbidden.",
        "personal_data": "Reading out a full ID, card or account number exposes personal data.",
        "harassment": "Calling repeatedly or continuously to annoy or pressure the debtor is harassment.",
        "disclosure": "The collector must identify themselves and the purpose of the call.",
        "recording_notice": "The debtor must be told that the call is recorded.",
        "calling_hours": "Calls are allowed only inside the calling window in the debtor's local time.",
        "call_frequency": "Calls beyond the frequency limits are presumed to be harassment.",
        "unfair_practice": "Pushing the debtor into new borrowing or other unfair means is not allowed.",
        "contempt": "Belittling or mocking the debtor is abusive even without a swear word.",
        "abusive_tone": "The wording reads as abusive or contemptuous toward the debtor.",
        "wrong_party": "The person on the line is not the debtor: the debt may not be discussed with them.",
        "unverified": "The person has not shown who they are: give no account details until they do.",
        "represented": "A lawyer represents the person for this debt: the collector deals with the lawyer.",
        "inconvenient": "The person said this time or place is inconvenient: contact them at another time.",
        "disputed": "The person disputes the debt: note it and tell them how to dispute it in writing.",
    },
    "zh": {
        "profanity": "催收中不得使用脏话、粗口。",
        "insult": "不得辱骂、贬损债务人的人格。",
        "threat": "不得以暴力或伤害相威胁、恐吓。",
        "false_legal": "不得虚构或夸大法律后果（抓人、坐牢、立案等），属于虚假、误导性陈述。",
        "third_party": "不得向无关第三方透露欠款信息或借此施压。",
        "public_shaming": "不得公开曝光、张贴或在群里发布债务人信息。",
        "personal_data": "读出完整的证件、银行卡或账户号码会泄露个人信息。",
        "harassment": "反复、夜间或轰炸式来电属于骚扰式催收。",
        "disclosure": "催收时须表明机构与身份，并说明来电目的。",
        "recording_notice": "须告知对方本次通话正在录音。",
        "calling_hours": "只能在债务人当地允许的时段内拨打电话。",
        "call_frequency": "超过频次上限的来电视为骚扰。",
        "unfair_practice": "不得诱导借新还旧或采用其他不正当手段。",
        "contempt": "即使不带脏字，轻蔑、挖苦、羞辱债务人也属于辱骂。",
        "abusive_tone": "措辞带有攻击性或轻蔑语气。",
        "wrong_party": "接电话的人不是债务人：不得向其透露任何欠款信息。",
        "unverified": "对方尚未核实身份：核实之前不得透露欠款金额或账号。",
        "represented": "对方已委托律师：应与律师沟通，不再向本人催收。",
        "inconvenient": "对方表示现在或此处不方便：应另约时间联系。",
        "disputed": "对方否认欠款：应记录异议，并告知书面提出异议的方式。",
    },
}


def rule_reason(rule: Rule, lang: str) -> str:
    """The rule's own reason, else its category's in ``lang`` (English if unknown), else its title."""
    if rule.reason:
        return rule.reason
    by_lang = CATEGORY_REASON.get(lang) or CATEGORY_REASON["en"]
    return by_lang.get(rule.category) or CATEGORY_REASON["en"].get(rule.category) or rule.title
