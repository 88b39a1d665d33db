"""Handoff in four languages: the shipped patterns and word lists for en, vi, id and zh.

Every language's patterns are tried on every message (detection can be wrong and customers mix
languages), so each case goes through the whole policy, as the gate sees it. The negatives include
the FAQ questions closest to a request ("khi nào tôi nhận được tiền hoàn" asks when a refund
arrives, it does not ask for one) and the other languages' everyday words.
"""

from __future__ import annotations

import pytest

from actions.handoff.decision import decide
from actions.handoff.policy import ROOT, load_policy
from actions.handoff.signals import score_conversation
from actions.handoff.turns import misunderstood, small_talk, turns_from_events
from tests.actions.events import answered, user

POLICY = load_policy(ROOT / "policy.yml")
# What the classifier says of a message it is unsure of: neither the intent nor the FAQ topic
# is trusted, so only the words can fire a rule.
WEAK = {"confidence": 0.5, "faq_confidence": 0.3}


def decision(events: list[dict]):
    return decide(turns_from_events(events), POLICY)


def signal_names(events: list[dict]) -> list[str]:
    return [f.name for f in score_conversation(turns_from_events(events), POLICY)]


# --- greetings, thanks and goodbyes ---------------------------------------------------------

SMALL_TALK = [
    ("xin chào", "greet"),
    ("chào shop ạ", "greet"),
    ("Xin chao ad", "greet"),
    ("cảm ơn nhiều", "thank"),
    ("cam on shop", "thank"),
    ("Dạ em cảm ơn ạ 🙏", "thank"),
    ("cám ơn bạn nhiềuuu", "thank"),
    ("tạm biệt shop nhé", "goodbye"),
    ("halo kak", "greet"),
    ("Selamat pagi min", "greet"),
    ("makasih kak", "thank"),
    ("terima kasih", "thank"),
    ("makasih banyak ya kak atas bantuannya", "thank"),
    ("mksh gan", "thank"),
    ("oke dadah", "goodbye"),
    ("你好", "greet"),
    ("亲，在吗？", "greet"),
    ("谢谢", "thank"),
    ("好的谢谢亲！", "thank"),
    ("多谢老板", "thank"),
    ("拜拜", "goodbye"),
    ("88", "goodbye"),
    ("hi there", "greet"),
    ("Thanks a lot!!", "thank"),
    ("ok thanks, bye!", "goodbye"),
]


@pytest.mark.parametrize(("text", "kind"), SMALL_TALK)
def test_greetings_thanks_and_goodbyes_in_every_language(text: str, kind: str) -> None:
    assert small_talk(text, POLICY) == kind


@pytest.mark.parametrize(
    "text",
    [
        "hi, where is my order",
        "thanks for nothing",
        "thanks but it didn't help",
        "hi 71042388",
        "chào shop, phí ship bao nhiêu",
        "cảm ơn nhưng vẫn chưa nhận được hàng",
        "halo min mau tanya ongkir",
        "makasih tapi paketnya belum sampai",
        "谢谢，订单到哪了",
        "你好我要退款",
        "好的",
        "ok",
        "shop ơi",
        "kak",
    ],
)
def test_anything_more_than_small_talk_is_not_small_talk(text: str) -> None:
    assert small_talk(text, POLICY) is None


@pytest.mark.parametrize(("text", "_kind"), SMALL_TALK)
def test_small_talk_is_never_misunderstood_even_when_the_classifier_is_unsure(
    text: str, _kind: str
) -> None:
    (turn,) = turns_from_events([user(text, "nlu_fallback", confidence=0.2)])
    assert not misunderstood(turn, POLICY)


def test_hello_then_thanks_is_not_two_misunderstandings() -> None:
    # issue 14: "xin chào" then "cảm ơn nhiều" were handed to a person for nlu_failure
    for first, second in [("xin chào", "cảm ơn nhiều"), ("halo kak", "makasih kak")]:
        events = [
            user(first, "nlu_fallback", confidence=0.2),
            user(second, "nlu_fallback", confidence=0.2),
        ]
        result = decision(events)
        assert (result.reason, result.consecutive_misunderstood) == (None, 0)
        assert result.small_talk in {"greet", "thank"}
        assert signal_names(events) == []
    events = [
        user("你好", "faq/order_status", faq_confidence=0.1),
        user("谢谢！！！", "nlu_fallback"),
    ]
    assert decision(events).reason is None and signal_names(events) == []


@pytest.mark.parametrize(
    "intent", ["request_refund", "request_human", "legal_threat", "bereavement", "complain"]
)
def test_small_talk_hands_nothing_over_whatever_the_classifier_guessed(intent: str) -> None:
    for text in ("cảm ơn nhiều", "terima kasih", "谢谢", "拜拜"):
        result = decision([user(text, intent, confidence=0.55)])
        assert not result.hands_off and result.gate != "offer_person", (text, intent)


def test_small_talk_after_misunderstandings_ends_the_streak() -> None:
    events = [user("asdf qwer", "nlu_fallback"), user("cam on shop", "nlu_fallback")]
    assert decision(events).consecutive_misunderstood == 0


# --- shouting without capitals, and repeats without spaces ----------------------------------

# "WHERE IS MY ORDER" in full-width capitals, as a Chinese keyboard may type it
FULL_WIDTH_WHERE_IS_MY_ORDER = "".join(
    chr(ord(c) + 0xFEE0) if c != " " else c for c in "WHERE IS MY ORDER"
)


@pytest.mark.parametrize(
    ("text", "shouting"),
    [
        ("订单到底什么时候到！！！", True),  # full-width, read as "!!!"
        ("怎么还没发货？？？", True),
        ("快递呢？！？", True),
        ("还没到。。。", True),
        ("！！我等了两个星期了！！", True),
        (FULL_WIDTH_WHERE_IS_MY_ORDER, True),
        ("TÔI ĐÃ CHỜ HAI TUẦN RỒI", True),
        ("KENAPA PAKET SAYA BELUM SAMPAI", True),
        ("你好，请问运费多少？", False),
        ("订单号71042388，什么时候发货?", False),
        # English words in capitals inside Chinese are names, not a raised voice
        ("我的PROMO CODE用不了，APP也打不开", False),
        ("好吧...", False),
        ("phí ship bao nhiêu vậy shop?", False),
    ],
)
def test_shouting_in_chinese_counts_runs_of_punctuation_not_capitals(
    text: str, shouting: bool
) -> None:
    assert ("shouting" in signal_names([user(text, "faq/order_status")])) is shouting


def test_thanks_with_exclamation_marks_is_not_shouting() -> None:
    for text in ("谢谢！！！", "cảm ơn shop!!!", "MAKASIH KAK!!!"):
        assert signal_names([user(text, "thank")]) == []


@pytest.mark.parametrize(
    ("first", "again", "topic", "repeat"),
    [
        ("运费多少钱", "运费到底多少钱啊", "faq/shipping_cost", True),
        ("phí ship bao nhiêu", "phi ship bao nhieu vay", "faq/shipping_cost", True),
        ("ongkir ke bandung berapa", "ongkir ke bandung berapa sih kak", "faq/shipping_cost", True),
        # a follow-up on the same topic is a new question
        ("能用支付宝吗", "那微信呢", "faq/payment_methods", False),
    ],
)
def test_a_repeated_question_in_any_language(first, again, topic, repeat) -> None:
    events = [*answered(first, topic), user(again, topic)]
    assert ("repeated_question" in signal_names(events)) is repeat


# --- requests for a person and the always_human rules, by their words alone ------------------

# (text, the rule that fires, or "explicit_request" for a request for a person, or None)
VIETNAMESE = [
    ("tôi muốn nói chuyện với nhân viên", "explicit_request"),
    ("cho em gặp nv với ạ", "explicit_request"),
    ("cho minh gap nguoi that", "explicit_request"),
    ("Ad ơi chuyển sang tư vấn viên giúp em", "explicit_request"),
    ("e muốn nc với nhân viên chăm sóc khách hàng", "explicit_request"),
    ("ko muon noi chuyen voi bot nua", "explicit_request"),
    ("gọi lại cho em theo số này nhé", "explicit_request"),
    ("tài khoản của em bị hack rồi", "account_security"),
    ("co nguoi dang nhap vao tk cua minh", "account_security"),
    ("tôi không hề đặt đơn này", "account_security"),
    ("em ko dat ma sao bi tru tien", "account_security"),
    ("có một giao dịch lạ trên thẻ", "account_security"),
    ("con mèo của tôi đã mất tuần trước, hủy autoship giúp", "bereavement"),
    ("be cun nha em vua qua doi", "bereavement"),
    ("chó nhà mình mất rồi", "bereavement"),
    ("tôi sẽ thuê luật sư", "legal_threat"),
    ("shop cứ vậy em sẽ kiện shop", "legal_threat"),
    ("mèo ăn hạt mới xong bị nôn mửa cả đêm", "pet_health"),
    ("be bi tieu chay tu khi doi sang hat cua shop", "pet_health"),
    ("pate này làm bé bị ngộ độc", "pet_health"),
    ("nhân viên tư vấn thái độ quá tệ", "complaint_about_staff"),
    ("nv cskh cup may ngang", "complaint_about_staff"),
    ("hủy đơn và hoàn tiền cho em", "cancellation_with_money"),
    ("huy don 71042388 roi tra lai tien giup minh", "cancellation_with_money"),
    ("tôi muốn hoàn tiền", "refund"),
    ("e mún refund đơn này", "refund"),
    ("hoan tien cho em di", "refund"),
    ("shop phải đền bù cho em", "credit"),
    ("cho em xin voucher cho đơn sau để bù nhé", "credit"),
    ("tôi muốn khiếu nại", "complaint"),
    ("có nhân viên nào online không ạ", "explicit_request"),
    ("sau khi ăn snack của shop chó em bị dị ứng nổi mẩn", "pet_health"),
    # FAQ questions and everyday words: the bot answers them
    ("khi nào tôi nhận được tiền hoàn", None),
    ("bao lâu thì được hoàn tiền vậy shop", None),
    ("em muốn biết khi nào được hoàn tiền", None),
    ("lam sao de doi tra hang", None),
    ("hủy đơn thì bao lâu được hoàn tiền", None),
    ("phí giao hàng là bao nhiêu", None),
    ("ship mat may ngay", None),
    ("giao cho em mất 3 ngày à", None),
    ("mèo nhà em mất tích 2 hôm nay", None),
    ("em không đặt được đơn, lỗi gì vậy", None),
    ("em chưa đặt đơn, muốn hỏi phí ship", None),
    ("đơn hàng là 71042388", None),
    ("chó bị tiêu chảy nên cho ăn gì", None),
    ("hạt cho chó bị tiêu chảy loại nào tốt", None),
    ("mèo nhà em bỏ ăn 2 hôm phải làm sao", None),
    ("số hotline của shop là gì", None),
    ("hôm qua em đã nói chuyện với nhân viên rồi", None),
    ("nhân viên giao hàng không gọi lại cho tôi", None),
    ("kiện hàng của em bị móp", None),
    ("làm sao đổi mật khẩu", None),
    ("em không đổi được mật khẩu", None),
    ("shop có bán vòng cổ cho mèo không", None),
    ("cho em hỏi pate này mèo con ăn được không", None),
]

INDONESIAN = [
    ("mau bicara dengan CS", "explicit_request"),
    ("sy mau ngobrol sama orang asli aja", "explicit_request"),
    ("tolong sambungkan ke admin", "explicit_request"),
    ("minta CS dong kak", "explicit_request"),
    ("panggilin manusia beneran please", "explicit_request"),
    ("males chat sama bot, mana adminnya", "explicit_request"),
    ("tolong telpon saya balik ya", "explicit_request"),
    ("akun saya dihack", "account_security"),
    ("ada yang login ke akun saya tanpa izin", "account_security"),
    ("ada pesanan yang gak saya pesan", "account_security"),
    ("saya tidak pernah order ini tapi ditagih", "account_security"),
    ("kucing saya sudah meninggal, tolong stop autoship", "bereavement"),
    ("anjingku udah gak ada kemarin", "bereavement"),
    ("saya akan bawa ke jalur hukum", "legal_threat"),
    ("mau saya laporkan ke YLKI", "legal_threat"),
    ("makanan ini bikin kucing saya muntah terus", "pet_health"),
    ("anjing sy diare setelah makan snack dari toko ini", "pet_health"),
    ("CS nya kasar banget tadi", "complaint_about_staff"),
    ("tolong batalin order 71042388 dan refund uang saya", "cancellation_with_money"),
    ("mau refund", "refund"),
    ("minta refund dong kak", "refund"),
    ("balikin uang saya!", "refund"),
    ("saya minta kompensasi", "credit"),
    ("kasih voucher buat ganti dong", "credit"),
    ("saya mau komplain soal pesanan ini", "complaint"),
    ("Selamat siang, saya ingin mengajukan refund untuk pesanan 71042388", "refund"),
    ("batalin pesanan aja, uangnya balikin", "cancellation_with_money"),
    ("gimana cara ngajuin refund?", None),
    # FAQ questions and everyday words
    ("kapan refund saya masuk", None),
    ("refund saya kapan masuk ya kak?", None),
    ("berapa lama proses refund", None),
    ("gimana cara return barang", None),
    ("kalau batal, kapan refund masuk?", None),
    ("berapa ongkos kirim", None),
    ("ongkir ke bandung brp kak", None),
    ("gmn cara chat sama admin?", None),
    ("nomor cs berapa ya", None),
    ("tadi udah chat sama CS katanya dikirim hari ini", None),
    ("kurir gak telpon saya padahal saya di rumah", None),
    ("saya gak bisa ganti password", None),
    ("saya belum pesan, mau tanya dulu", None),
    ("makanan untuk kucing yang sering muntah apa ya", None),
    ("apakah makanan ini mengandung babi?", None),
    ("hp saya mati pas checkout", None),
    ("kucing saya hampir mati kelaparan kalau paket gak datang", None),
    ("mau tanya soal refund", None),
    ("saya sudah transfer ke admin", None),
]

CHINESE = [
    ("转人工", "explicit_request"),
    ("人工客服", "explicit_request"),
    ("我要找真人", "explicit_request"),
    ("人工", "explicit_request"),
    ("能不能让经理跟我说", "explicit_request"),
    ("不要机器人，我要人工", "explicit_request"),
    ("麻烦给我回个电话", "explicit_request"),
    ("我的账号被盗了", "account_security"),
    ("有人登录了我的账号", "account_security"),
    ("这个订单不是我下的", "account_security"),
    ("我没下过这个单怎么扣钱了", "account_security"),
    ("我家狗狗昨天走了，自动订购帮我取消吧", "bereavement"),
    ("猫咪去世了", "bereavement"),
    ("我要找律师告你们", "legal_threat"),
    ("再不处理我就打12315", "legal_threat"),
    ("吃了你们的猫粮就吐了", "pet_health"),
    ("换了新粮之后一直拉稀", "pet_health"),
    ("客服态度太差了", "complaint_about_staff"),
    ("取消订单并退款", "cancellation_with_money"),
    ("我要退款", "refund"),
    ("我想退款怎么弄", "refund"),
    ("快点把钱退给我", "refund"),
    ("要求全额退款", "refund"),
    ("你们得给我补偿", "credit"),
    ("我要投诉", "complaint"),
    ("叫你们经理来", "explicit_request"),
    ("申请退款，订单71042388", "refund"),
    ("我的号被人盗了", "account_security"),
    ("账户被别人登录了", "account_security"),
    ("怎么申请退款", None),
    ("快递单号被写错了", None),
    # FAQ questions and everyday words
    ("退款多久到账", None),
    ("退款什么时候到", None),
    ("我想知道退款多久到账", None),
    ("取消订单后多久退款", None),
    ("取消订单能退款吗", None),
    ("我不要退款，换个新的就行", None),
    ("运费多少钱", None),
    ("怎么联系客服", None),
    ("客服几点上班", None),
    ("我还没下单，想问运费", None),
    ("猫咪拉肚子吃什么粮好", None),
    ("猫砂没了吗", None),
    ("喵星人喜欢什么玩具", None),
    ("快递员没给我打电话", None),
    ("用工商银行卡付款可以吗", None),
    ("你们卖垃圾袋吗", None),
    ("怎么操作自动订购", None),
    ("物流单号9400112315000", None),
]


def _rule_or_request(text: str) -> str | None:
    result = decision([user(text, "faq/contact_hours", **WEAK)])
    if result.reason == "explicit_request":
        return "explicit_request"
    return result.rule.name if result.rule else None


@pytest.mark.parametrize(("text", "expected"), VIETNAMESE)
def test_vietnamese_requests_and_rules(text: str, expected: str | None) -> None:
    assert _rule_or_request(text) == expected


@pytest.mark.parametrize(("text", "expected"), INDONESIAN)
def test_indonesian_requests_and_rules(text: str, expected: str | None) -> None:
    assert _rule_or_request(text) == expected


@pytest.mark.parametrize(("text", "expected"), CHINESE)
def test_chinese_requests_and_rules(text: str, expected: str | None) -> None:
    assert _rule_or_request(text) == expected


# --- frustration signals, after an answer ---------------------------------------------------

ANSWERED = answered("where is my order", "faq/order_status")

SIGNALS = [
    # Vietnamese
    ("tôi đã nói rồi mà", ["repeated_question"]),
    ("hỏi lần thứ ba rồi đấy", ["repeated_question"]),
    ("noi bao nhieu lan roi", ["repeated_question"]),
    ("chẳng giúp được gì cả", ["negative_feedback"]),
    ("bot vo dung", ["negative_feedback"]),
    ("bạn không hiểu à", ["negative_feedback"]),
    ("tra loi linh tinh", ["negative_feedback"]),
    ("em làm rồi mà vẫn không được", ["negative_feedback"]),
    ("không thấy nút đó", ["negative_feedback"]),
    ("thật là thất vọng", ["negative_feedback"]),
    ("shop lừa đảo", ["insult"]),
    ("bot ngu vl", ["insult"]),
    ("bé nhà em hết hạt rồi", ["urgency"]),
    ("meo chua an gi tu hom qua", ["urgency"]),
    ("bé bị co giật", ["urgency"]),
    ("đây là viên thuốc cuối cùng", ["urgency"]),
    ("không bao giờ mua ở đây nữa", ["threat_to_leave"]),
    ("em chuyển sang shop khác đây", ["threat_to_leave"]),
    ("bé nhà em 2 ngày không ăn gì", ["urgency"]),
    # everyday Vietnamese that shares their words
    ("mèo nhà em ngủ nhiều lắm", []),
    ("meo ngu nhieu qua", []),
    ("shop hết hạt royal canin chưa", []),
    ("đơn hàng này mất bao lâu", []),
    ("cho em hỏi đeo vòng cổ cho mèo được không", []),
    ("hạt óc chó chó ăn được không", []),
    ("mèo đi cứt ra máu", []),
    ("em đang đợi hàng", []),
    # Indonesian
    ("udah saya bilang dari tadi", ["repeated_question"]),
    ("ini kedua kalinya saya tanya", ["repeated_question"]),
    ("gak membantu sama sekali", ["negative_feedback"]),
    ("percuma nanya ke bot", ["negative_feedback"]),
    ("bukan itu yang saya tanya", ["negative_feedback"]),
    ("gak ada tombolnya", ["negative_feedback"]),
    ("kamu gak ngerti ya", ["negative_feedback"]),
    ("bot goblok", ["insult"]),
    ("dasar penipu", ["insult"]),
    ("kucing saya kehabisan makanan", ["urgency"]),
    ("obatnya udah habis", ["urgency"]),
    ("anjing saya belum makan dari kemarin", ["urgency"]),
    ("saya gak mau belanja di sini lagi", ["threat_to_leave"]),
    ("kapok belanja di sini", ["threat_to_leave"]),
    ("mending pindah ke toko lain", ["threat_to_leave"]),
    ("udah berkali-kali saya tanya", ["repeated_question"]),
    ("pasir kucing udah habis", ["urgency"]),
    # everyday Indonesian
    ("anjing saya suka makanan basah", []),
    ("kotoran kucing saya cair, tai nya lembek", []),
    ("apakah ada makanan babi?", []),
    ("makanan royal canin ready?", []),
    ("saya mau langganan lagi bulan depan", []),
    # Chinese
    ("我都说了", ["repeated_question"]),
    ("问了好几遍了", ["repeated_question"]),
    ("根本没用", ["negative_feedback"]),
    ("答非所问", ["negative_feedback"]),
    ("你听不懂吗", ["negative_feedback"]),
    ("已经试过了", ["negative_feedback"]),
    ("找不到你说的那个按钮", ["negative_feedback"]),
    ("无语", ["negative_feedback"]),
    ("垃圾客服", ["insult"]),
    ("骗子", ["insult"]),
    ("猫粮吃完了", ["urgency"]),
    ("狗狗两天没吃东西了", ["urgency"]),
    ("最后一颗药了", ["urgency"]),
    ("再也不买了", ["threat_to_leave"]),
    ("去别家买", ["threat_to_leave"]),
    ("我照做了还是不行", ["negative_feedback"]),
    # everyday Chinese
    ("你们卖垃圾袋吗", []),
    ("狗屎袋有货吗", []),
    ("怎么操作", []),
    ("优惠券还没用", []),
    ("这款猫粮没了吗", []),
    ("你们已经发货了吗", []),
]


@pytest.mark.parametrize(("text", "expected"), SIGNALS)
def test_frustration_signals_in_every_language(text: str, expected: list[str]) -> None:
    assert signal_names([*ANSWERED, user(text, "faq/order_status")]) == expected


@pytest.mark.parametrize(
    ("text", "topic", "rule"),
    [
        # a confident FAQ answer outweighs the words of a rule that is not grave, as in English
        ("tôi muốn hoàn tiền thì làm thế nào", "faq/return_how", None),
        ("mau refund gimana caranya", "faq/return_how", None),
        ("我想退款怎么操作", "faq/return_how", None),
        # ... but not a pet's death or a hacked account
        ("mèo nhà em mất rồi, hủy autoship thế nào", "faq/autoship_cancel", "bereavement"),
        ("akun saya dihack, gimana ganti password", "faq/password_reset", "account_security"),
        ("我家猫咪去世了，怎么取消自动订购", "faq/autoship_cancel", "bereavement"),
    ],
)
def test_a_confident_faq_answer_is_given_unless_the_rule_is_grave(text, topic, rule) -> None:
    result = decision([user(text, topic)])
    assert (result.rule.name if result.rule else None) == rule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # customers mix languages: each language's patterns see the whole message
        ("hi shop, em muốn refund đơn 71042388", "refund"),
        ("我要refund", "refund"),
        ("please, saya mau bicara dengan CS", "explicit_request"),
        ("我的account被盗了", "account_security"),
        ("ok thanks, but I want my money back", "refund"),
    ],
)
def test_mixed_language_messages(text: str, expected: str) -> None:
    assert _rule_or_request(text) == expected
