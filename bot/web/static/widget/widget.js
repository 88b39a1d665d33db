/*
 * Fetch & Home chat widget. One script tag embeds it on any page:
 *
 *   <script src="https://chat.fetchandhome.example/widget.js" defer
 *           data-language="en" data-accent="#0b6b53"
 *           data-greeting="Hi! How can we help today?"
 *           data-customer="<identity the shop's site signs for a signed-in customer>"></script>
 *
 * Options, all optional (data- attributes of the script tag):
 *   data-service      the bot service's address (default: where this script was loaded from)
 *   data-language     the customer's language, passed to the bot (default: the page's lang, or en);
 *                     the widget's own words are in it (en, vi, id, zh; others get English)
 *   data-accent       the brand colour, any CSS colour (text on it is picked for contrast)
 *   data-title        the name in the header (default "Fetch & Home")
 *   data-greeting     the first thing the assistant says
 *   data-suggestions  starter questions, separated by "|"
 *   data-customer     a signed customer identity (bot/channel/identity.py); never an unsigned id
 *   data-open         "true": start with the chat open
 *   data-position     "right" (default) or "left"
 *
 * Safety: message text is only ever set with textContent; a link becomes an <a> element
 * (rel="noopener noreferrer") only for http and https addresses: the DOM helpers are the desk's
 * own, from shared/dom.js. No inline styles or
 * scripts (the service's Content-Security-Policy forbids them): styles come from widget.css,
 * colours through CSS custom properties set with the CSSOM.
 *
 * Reliability: each message gets a client_msg_id and stays in an outbox (kept in localStorage)
 * until the service acknowledges it; resending is safe because the service stores a repeated id
 * once. Messages are placed by their seq, so replays and echoes never duplicate, and a reconnect
 * asks for everything after the last seq seen. If the websocket cannot connect, the widget sends
 * over HTTP and polls until it can.
 *
 * Served as one classic script (a module could not find its own script tag): bot/web/pages.py
 * puts shared/dom.js, in a scope of its own, in place of the import below, and wraps the whole
 * in a strict function.
 */
import { h, linkify } from "../shared/dom.js";

// The widget's own words, one table per language; a conversation in another language gets the
// English ones. Each table has every key of `en` (tests/bot/web/pages/test_widget_languages.py).
const STRINGS = {
  en: {
    locale: "en-US",
    title: "Fetch & Home",
    launcher: "Chat with us",
    launcherUnread: (n) => `Chat with us, ${n} new message${n === 1 ? "" : "s"}`,
    botStatus: "Virtual assistant",
    personStatus: (name) => `${name} · Customer Care`,
    customerCare: "Customer Care",
    queuedStatus: "Connecting you to a person",
    // writing again reopens this chat with the assistant, which starts afresh
    // (bot/channel/chat.py)
    closedStatus: "Chat ended · the assistant is here",
    minimise: "Minimise chat",
    log: "Conversation",
    input: "Your message",
    placeholder: "Type your message…",
    placeholderClosed: "Anything else? Ask the assistant…",
    send: "Send",
    tooLong: (n) => `Messages are limited to ${n} characters.`,
    sending: "Sending",
    sent: "Sent",
    failed: "Not sent",
    retry: "Retry",
    you: "You",
    youSaid: "You said:",
    assistant: "Assistant",
    assistantSaid: "The assistant said:",
    personSaid: (name) => `${name} said:`,
    notice: "Notice:",
    greeting:
      "Hi! I'm the Fetch & Home virtual assistant. I can help with orders, delivery, Autoship, " +
      "returns, payments and the Pet Pharmacy. What can I do for you?",
    suggestions: [
      "Where is my order?",
      "How much is shipping?",
      "Skip an Autoship delivery",
      "Talk to a person",
    ],
    suggested: "Suggested replies",
    reconnecting: "Connection lost. Reconnecting…",
    offline: "You're offline. We'll send your messages when you're back.",
    handoffTitle: "Connecting you to a person",
    offlineTitle: "Our team is away right now",
    doneTitle: "We'll be in touch",
    foldQueue: "Hide the waiting details",
    unfoldQueue: "Show the waiting details",
    findingPlace: "Finding your place in the queue…",
    position: (n) => (n === 1 ? "You're next in line." : `You're number ${n} in line.`),
    eta: (text) => `Estimated wait: ${text}.`,
    etaSoon: "a few minutes",
    etaMinutes: (low, high) => (low === high ? `about ${low} minutes` : `${low}-${high} minutes`),
    etaHours: (n) => `about ${n} hour${n === 1 ? "" : "s"}`,
    backToBot: "Back to the assistant",
    backFailed: "A person is already picking up your chat.",
    surveyLabel: "How satisfied are you? 1 is not at all, 5 is very.",
    scale: ["Not at all", "", "", "", "Very"],
    surveyThanks: (n) => `Thank you! You rated this chat ${n} out of 5.`,
    callbackTitle: "Ask us to contact you",
    callbackName: "Name (optional)",
    callbackEmail: "E-mail",
    callbackPhone: "Phone",
    callbackNote: "Anything we should know? (optional)",
    callbackHint: "An e-mail address or a phone number is enough.",
    callbackSend: "Send my details",
    contactWhenOpen: (contact) => `We'll contact you at ${contact} as soon as we open.`,
    contactWhenBack: (contact) =>
      `We'll contact you at ${contact} as soon as someone from our team is back.`,
    badEmail: "That doesn't look like an e-mail address.",
    badPhone: "That doesn't look like a phone number.",
    expired: "Your earlier chat has expired, so this is a new one.",
    error: "Something went wrong. Please try again.",
    typingPerson: (name) => `${name} is typing`,
    typingBot: "The assistant is typing",
  },
  vi: {
    locale: "vi-VN",
    title: "Fetch & Home",
    launcher: "Chat với chúng mình",
    launcherUnread: (n) => `Chat với chúng mình, ${n} tin nhắn mới`,
    botStatus: "Trợ lý ảo",
    personStatus: (name) => `${name} · Chăm sóc khách hàng`,
    customerCare: "Chăm sóc khách hàng",
    queuedStatus: "Đang kết nối bạn với nhân viên",
    closedStatus: "Cuộc trò chuyện đã kết thúc · trợ lý ảo vẫn ở đây",
    minimise: "Thu nhỏ cửa sổ chat",
    log: "Cuộc trò chuyện",
    input: "Tin nhắn của bạn",
    placeholder: "Nhập tin nhắn…",
    placeholderClosed: "Bạn cần gì thêm? Hỏi trợ lý ảo…",
    send: "Gửi",
    tooLong: (n) => `Mỗi tin nhắn tối đa ${n} ký tự.`,
    sending: "Đang gửi",
    sent: "Đã gửi",
    failed: "Chưa gửi được",
    retry: "Gửi lại",
    you: "Bạn",
    youSaid: "Bạn đã viết:",
    assistant: "Trợ lý ảo",
    assistantSaid: "Trợ lý ảo đã viết:",
    personSaid: (name) => `${name} đã viết:`,
    notice: "Thông báo:",
    greeting:
      "Xin chào! Mình là trợ lý ảo của Fetch & Home. Mình có thể hỗ trợ về đơn hàng, giao hàng, " +
      "Autoship, đổi trả, thanh toán và Pet Pharmacy. Mình có thể giúp gì cho bạn?",
    suggestions: [
      "Đơn hàng của tôi đâu rồi?",
      "Phí giao hàng bao nhiêu?",
      "Bỏ qua một lần giao Autoship",
      "Gặp nhân viên",
    ],
    suggested: "Gợi ý trả lời",
    reconnecting: "Mất kết nối. Đang kết nối lại…",
    offline: "Bạn đang mất mạng. Tin nhắn sẽ được gửi khi bạn có mạng trở lại.",
    handoffTitle: "Đang kết nối bạn với nhân viên",
    offlineTitle: "Đội ngũ hiện đang vắng mặt",
    doneTitle: "Chúng mình sẽ liên hệ lại",
    foldQueue: "Ẩn thông tin chờ",
    unfoldQueue: "Hiện thông tin chờ",
    findingPlace: "Đang xác định vị trí của bạn trong hàng chờ…",
    position: (n) =>
      n === 1 ? "Bạn là người tiếp theo." : `Bạn đang ở vị trí thứ ${n} trong hàng chờ.`,
    eta: (text) => `Thời gian chờ dự kiến: ${text}.`,
    etaSoon: "vài phút",
    etaMinutes: (low, high) => (low === high ? `khoảng ${low} phút` : `${low}-${high} phút`),
    etaHours: (n) => `khoảng ${n} giờ`,
    backToBot: "Quay lại trợ lý ảo",
    backFailed: "Một nhân viên đang tiếp nhận cuộc trò chuyện của bạn.",
    surveyLabel: "Bạn hài lòng đến mức nào? 1 là hoàn toàn không hài lòng, 5 là rất hài lòng.",
    scale: ["Hoàn toàn không", "", "", "", "Rất hài lòng"],
    surveyThanks: (n) => `Cảm ơn bạn! Bạn đã chấm cuộc trò chuyện này ${n}/5.`,
    callbackTitle: "Yêu cầu chúng mình liên hệ lại",
    callbackName: "Họ tên (không bắt buộc)",
    callbackEmail: "Email",
    callbackPhone: "Số điện thoại",
    callbackNote: "Bạn có muốn nhắn thêm gì không? (không bắt buộc)",
    callbackHint: "Chỉ cần địa chỉ email hoặc số điện thoại.",
    callbackSend: "Gửi thông tin",
    contactWhenOpen: (contact) => `Chúng mình sẽ liên hệ với bạn qua ${contact} ngay khi mở cửa.`,
    contactWhenBack: (contact) =>
      `Chúng mình sẽ liên hệ với bạn qua ${contact} ngay khi có nhân viên quay lại.`,
    badEmail: "Địa chỉ email có vẻ chưa đúng.",
    badPhone: "Số điện thoại có vẻ chưa đúng.",
    expired: "Cuộc trò chuyện trước đã hết hạn, đây là cuộc trò chuyện mới.",
    error: "Đã có lỗi xảy ra. Bạn vui lòng thử lại.",
    typingPerson: (name) => `${name} đang nhập`,
    typingBot: "Trợ lý ảo đang nhập",
  },
  id: {
    locale: "id-ID",
    title: "Fetch & Home",
    launcher: "Chat dengan kami",
    launcherUnread: (n) => `Chat dengan kami, ${n} pesan baru`,
    botStatus: "Asisten virtual",
    personStatus: (name) => `${name} · Customer Care`,
    customerCare: "Customer Care",
    queuedStatus: "Menghubungkan Kakak ke petugas",
    closedStatus: "Chat selesai · asisten siap membantu",
    minimise: "Perkecil chat",
    log: "Percakapan",
    input: "Pesan Kakak",
    placeholder: "Tulis pesan…",
    placeholderClosed: "Ada lagi? Tanya asisten…",
    send: "Kirim",
    tooLong: (n) => `Pesan maksimal ${n} karakter.`,
    sending: "Mengirim",
    sent: "Terkirim",
    failed: "Tidak terkirim",
    retry: "Coba lagi",
    you: "Kakak",
    youSaid: "Kakak menulis:",
    assistant: "Asisten",
    assistantSaid: "Asisten menulis:",
    personSaid: (name) => `${name} menulis:`,
    notice: "Pemberitahuan:",
    greeting:
      "Halo Kak! Saya asisten virtual Fetch & Home. Saya bisa bantu soal pesanan, pengiriman, " +
      "Autoship, retur, pembayaran, dan Pet Pharmacy. Ada yang bisa saya bantu?",
    suggestions: [
      "Pesanan saya di mana?",
      "Berapa ongkos kirimnya?",
      "Skip satu pengiriman Autoship",
      "Bicara dengan petugas",
    ],
    suggested: "Saran balasan",
    reconnecting: "Koneksi terputus. Menghubungkan kembali…",
    offline: "Kakak sedang offline. Pesan akan kami kirim begitu Kakak online lagi.",
    handoffTitle: "Menghubungkan Kakak ke petugas",
    offlineTitle: "Tim kami sedang tidak di chat",
    doneTitle: "Kami akan menghubungi Kakak",
    foldQueue: "Sembunyikan info antrean",
    unfoldQueue: "Tampilkan info antrean",
    findingPlace: "Mencari posisi Kakak di antrean…",
    position: (n) =>
      n === 1 ? "Kakak berikutnya di antrean." : `Kakak di urutan ke-${n} dalam antrean.`,
    eta: (text) => `Perkiraan waktu tunggu: ${text}.`,
    etaSoon: "beberapa menit",
    etaMinutes: (low, high) => (low === high ? `sekitar ${low} menit` : `${low}-${high} menit`),
    etaHours: (n) => `sekitar ${n} jam`,
    backToBot: "Kembali ke asisten",
    backFailed: "Petugas sedang mengambil chat Kakak.",
    surveyLabel: "Seberapa puas Kakak? 1 berarti sama sekali tidak puas, 5 berarti sangat puas.",
    scale: ["Tidak puas", "", "", "", "Sangat puas"],
    surveyThanks: (n) => `Terima kasih! Kakak memberi nilai ${n} dari 5 untuk chat ini.`,
    callbackTitle: "Minta kami menghubungi Kakak",
    callbackName: "Nama (opsional)",
    callbackEmail: "E-mail",
    callbackPhone: "Telepon",
    callbackNote: "Ada yang perlu kami ketahui? (opsional)",
    callbackHint: "Cukup alamat e-mail atau nomor telepon.",
    callbackSend: "Kirim data saya",
    contactWhenOpen: (contact) => `Kami akan menghubungi Kakak di ${contact} segera setelah buka.`,
    contactWhenBack: (contact) =>
      `Kami akan menghubungi Kakak di ${contact} segera setelah petugas kami kembali.`,
    badEmail: "Sepertinya itu bukan alamat e-mail yang valid.",
    badPhone: "Sepertinya itu bukan nomor telepon yang valid.",
    expired: "Chat sebelumnya sudah kedaluwarsa, jadi ini chat baru.",
    error: "Terjadi kesalahan. Silakan coba lagi.",
    typingPerson: (name) => `${name} sedang mengetik`,
    typingBot: "Asisten sedang mengetik",
  },
  zh: {
    locale: "zh-CN",
    title: "Fetch & Home",
    launcher: "在线咨询",
    launcherUnread: (n) => `在线咨询，${n} 条新消息`,
    botStatus: "智能助手",
    personStatus: (name) => `${name} · 客服`,
    customerCare: "客服",
    queuedStatus: "正在为您转接人工客服",
    closedStatus: "对话已结束 · 智能助手随时为您服务",
    minimise: "最小化对话窗口",
    log: "对话记录",
    input: "您的消息",
    placeholder: "请输入消息…",
    placeholderClosed: "还有其他问题？问问智能助手…",
    send: "发送",
    tooLong: (n) => `每条消息最多 ${n} 个字符。`,
    sending: "发送中",
    sent: "已发送",
    failed: "发送失败",
    retry: "重试",
    you: "您",
    youSaid: "您说：",
    assistant: "智能助手",
    assistantSaid: "智能助手说：",
    personSaid: (name) => `${name} 说：`,
    notice: "通知：",
    greeting:
      "您好！我是 Fetch & Home 智能助手，可以帮您处理订单、配送、Autoship、" +
      "退货、付款和 Pet Pharmacy 相关的问题。请问有什么可以帮您？",
    suggestions: ["我的订单在哪里？", "运费是多少？", "跳过一次 Autoship 配送", "转人工客服"],
    suggested: "推荐回复",
    reconnecting: "连接已断开，正在重新连接…",
    offline: "您目前处于离线状态，恢复网络后我们会发送您的消息。",
    handoffTitle: "正在为您转接人工客服",
    offlineTitle: "客服人员暂时不在线",
    doneTitle: "我们会联系您",
    foldQueue: "收起排队信息",
    unfoldQueue: "展开排队信息",
    findingPlace: "正在查询您的排队位置…",
    position: (n) => (n === 1 ? "下一位就是您。" : `您目前排在第 ${n} 位。`),
    eta: (text) => `预计等待时间：${text}。`,
    etaSoon: "几分钟",
    etaMinutes: (low, high) => (low === high ? `约 ${low} 分钟` : `${low}-${high} 分钟`),
    etaHours: (n) => `约 ${n} 小时`,
    backToBot: "返回智能助手",
    backFailed: "已有工作人员正在接入您的对话。",
    surveyLabel: "您满意吗？1 表示完全不满意，5 表示非常满意。",
    scale: ["完全不满意", "", "", "", "非常满意"],
    surveyThanks: (n) => `谢谢！您给本次对话打了 ${n} 分（满分 5 分）。`,
    callbackTitle: "请我们联系您",
    callbackName: "姓名（选填）",
    callbackEmail: "邮箱",
    callbackPhone: "电话",
    callbackNote: "还有什么需要我们知道的吗？（选填）",
    callbackHint: "留下邮箱或电话号码其中一项即可。",
    callbackSend: "提交联系方式",
    contactWhenOpen: (contact) => `我们上班后会第一时间通过 ${contact} 联系您。`,
    contactWhenBack: (contact) => `客服人员回来后会第一时间通过 ${contact} 联系您。`,
    badEmail: "邮箱地址格式似乎不正确。",
    badPhone: "电话号码格式似乎不正确。",
    expired: "您之前的对话已过期，这是一个新的对话。",
    error: "出了点问题，请重试。",
    typingPerson: (name) => `${name} 正在输入`,
    typingBot: "智能助手正在输入",
  },
};
const baseLanguage = (code) =>
  String(code || "")
    .split("-")[0]
    .toLowerCase();

const script = document.currentScript;
if (script && !window.FetchAndHomeChat) start(script);

function start(script) {
  const data = script.dataset;
  const SERVICE = (data.service || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  // the page's language: a new conversation starts in it (data-language, else <html lang>)
  const PAGE_LOCALE = (data.language || document.documentElement.lang || "en").slice(0, 5);
  const STORE_KEY = `fetchandhome-chat:${SERVICE}`;
  const MAX_CHARS = 2000;
  const ACK_TIMEOUT_MS = 10000;
  const HTTP_FALLBACK_MS = 4000;
  const POLL_MS = 3000;

  // The widget speaks the conversation's language: the one it started the conversation in (kept
  // with it across reloads), or the one the service reports for it; the page's until then.
  let language = baseLanguage(PAGE_LOCALE);
  let T = STRINGS[language] || STRINGS.en;
  let timeFormat = null;
  let dayFormat = null;
  function chooseLanguage(code) {
    const next = baseLanguage(code) || baseLanguage(PAGE_LOCALE);
    const changed = next !== language || !timeFormat;
    language = next;
    T = STRINGS[language] || STRINGS.en;
    const locale = pageWords() ? PAGE_LOCALE : T.locale;
    timeFormat = new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit" });
    dayFormat = new Intl.DateTimeFormat(locale, { month: "short", day: "numeric" });
    return changed;
  }
  // the page's own texts (data-title, data-greeting, data-suggestions) are in the page's language
  function pageWords() {
    return language === baseLanguage(PAGE_LOCALE);
  }
  const OPTIONS = {
    title: () => (pageWords() && data.title) || T.title,
    greeting: () => (pageWords() && data.greeting) || T.greeting,
    suggestions: () =>
      pageWords() && data.suggestions
        ? data.suggestions
            .split("|")
            .map((s) => s.trim())
            .filter(Boolean)
        : T.suggestions,
    customer: data.customer || null,
    position: data.position === "left" ? "left" : "right",
  };

  const SVG_NS = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat:
      "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 " +
      "3.6c-.5.4-1.3.1-1.3-.6V16A2.5 2.5 0 0 1 4 13.5z",
    close: "M6 6l12 12M18 6L6 18",
    send: "M4 12l16-8-6 16-2.5-6.5z",
    paw:
      "M8.5 11.5c1.2 0 2-1.3 2-2.8S9.7 6 8.5 6s-2 1.2-2 2.7.8 2.8 2 2.8zm7 0c1.2 0 2-1.3 " +
      "2-2.8S16.7 6 15.5 6s-2 1.2-2 2.7.8 2.8 2 2.8zM5 15.2c1 0 1.7-1 1.7-2.2S6 10.8 5 10.8s-1.7 " +
      "1-1.7 2.2.7 2.2 1.7 2.2zm14 0c1 0 1.7-1 1.7-2.2s-.7-2.2-1.7-2.2-1.7 1-1.7 2.2.7 2.2 1.7 " +
      "2.2zM12 13c-2.6 0-5 3-5 5 0 1.3 1 2 2.3 2 1 0 1.7-.5 2.7-.5s1.7.5 2.7.5c1.3 0 2.3-.7 " +
      "2.3-2 0-2-2.4-5-5-5z",
    person: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8c0-3.3 3.1-6 7-6s7 2.7 7 6",
    chevron: "M6 15l6-6 6 6",
  };

  function icon(name, label) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", `fh-icon fh-icon-${name}`);
    if (label) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", label);
    } else {
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("focusable", "false");
    }
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i;
  const PHONE_PATTERN = /^\+?[0-9][0-9 ().-]{5,30}[0-9]$/; // as the service checks it
  function when(iso) {
    const date = iso ? new Date(iso) : new Date();
    const sameDay = date.toDateString() === new Date().toDateString();
    return {
      iso: date.toISOString(),
      text: (sameDay ? "" : `${dayFormat.format(date)}, `) + timeFormat.format(date),
    };
  }

  // [shortest, likely, longest] seconds: an agent free now reads as "a few minutes", a longer
  // wait as the range it honestly is
  function etaText([low, likely, high]) {
    if (low === 0 || high <= 180) return T.etaSoon;
    const minutes = (seconds) => Math.max(1, Math.round(seconds / 60));
    if (likely >= 90 * 60) return T.etaHours(Math.round(likely / 3600));
    return T.etaMinutes(minutes(low), minutes(high));
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `m-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  }

  // --- what survives a reload --------------------------------------------------------------

  const customerOf = (signed) => (signed ? signed.split(".")[0] : null);
  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (!saved || typeof saved !== "object") return {};
      // a different signed-in customer (or none) gets their own conversation
      if (saved.customer !== customerOf(OPTIONS.customer)) return { open: saved.open };
      if (saved.expires && saved.expires * 1000 < Date.now())
        return { open: saved.open, expiredBefore: true };
      return saved;
    } catch {
      return {};
    }
  }
  const saved = load();
  chooseLanguage(saved.conversation_id && saved.language ? saved.language : PAGE_LOCALE);
  const state = {
    conversationId: saved.conversation_id || null,
    language: saved.conversation_id ? saved.language || null : null, // the conversation's
    token: saved.token || null,
    expires: saved.expires || null,
    open: data.open === "true" || Boolean(saved.open),
    outbox: Array.isArray(saved.outbox) ? saved.outbox : [],
    rated: saved.rated || {},
    callbackDone: saved.callbackDone || {}, // conversation id -> {contact, availability}
    contact: saved.contact || null, // a signed-in customer's e-mail address, from the service
    mode: "bot",
    agent: null,
    contiguous: 0, // every seq up to this one is shown
    lastReplySeq: 0, // the newest message not from the customer
    unread: 0,
    starting: null,
    queueFrame: null, // the latest place in line, to redraw the card
  };
  function persist() {
    try {
      localStorage.setItem(
        STORE_KEY,
        JSON.stringify({
          conversation_id: state.conversationId,
          token: state.token,
          expires: state.expires,
          language: state.language,
          customer: customerOf(OPTIONS.customer),
          open: state.open,
          outbox: state.outbox.map(({ client_msg_id, text, at, button }) => ({
            client_msg_id,
            text,
            at,
            button,
          })),
          rated: state.rated,
          callbackDone: state.callbackDone,
          contact: state.contact,
        }),
      );
    } catch {
      /* private mode or full storage: the chat still works, it just won't survive a reload */
    }
  }

  // --- the DOM -------------------------------------------------------------------------------

  const host = h("div", { id: "fetch-and-home-chat", "data-position": OPTIONS.position });
  host.hidden = true; // until the stylesheet has loaded
  const root = host.attachShadow({ mode: "open" });
  const stylesheet = h("link", { rel: "stylesheet", href: `${SERVICE}/static/widget/widget.css` });
  stylesheet.addEventListener("load", () => (host.hidden = false));
  stylesheet.addEventListener("error", () => (host.hidden = false));
  applyAccent(data.accent);

  const badge = h("span", { class: "fh-badge", "aria-hidden": "true", hidden: true });
  const launcher = h(
    "button",
    {
      class: "fh-launcher",
      type: "button",
      "aria-expanded": "false",
      "aria-controls": "fh-panel",
      "aria-label": T.launcher,
    },
    icon("chat"),
    h("span", { class: "fh-launcher-text", text: T.launcher }),
    badge,
  );
  const statusLine = h("p", { class: "fh-status", text: T.botStatus });
  const avatar = h("span", { class: "fh-avatar", "aria-hidden": "true" }, icon("paw"));
  const minimise = h(
    "button",
    { class: "fh-minimise", type: "button", "aria-label": T.minimise },
    icon("close"),
  );
  const header = h(
    "header",
    { class: "fh-header" },
    avatar,
    h(
      "div",
      { class: "fh-heading" },
      h("h2", { class: "fh-title", id: "fh-title", text: OPTIONS.title() }),
      statusLine,
    ),
    minimise,
  );
  const banner = h("div", { class: "fh-banner", role: "status", hidden: true });
  // The queue card stays small (a title row, one line, the way back) and folds to its title
  // row: on a phone the conversation and the call-back form need the height (issue 12, item 1).
  const queueText = h("span", { class: "fh-queue-text" });
  const queueEta = h("span", { class: "fh-queue-eta" });
  const queueNext = h("p", { class: "fh-thanks", role: "status", hidden: true });
  const backButton = h("button", { class: "fh-secondary", type: "button", text: T.backToBot });
  const queueError = h("p", { class: "fh-error", role: "alert" });
  const queueTitle = h("h3", { id: "fh-queue-title", text: T.handoffTitle });
  const queueToggle = h(
    "button",
    {
      class: "fh-queue-toggle",
      type: "button",
      "aria-expanded": "true",
      "aria-controls": "fh-queue-body",
      "aria-label": T.foldQueue,
    },
    icon("chevron"),
  );
  const queueCard = h(
    "section",
    { class: "fh-queue", "aria-labelledby": "fh-queue-title", hidden: true },
    h(
      "div",
      { class: "fh-queue-head" },
      h("span", { class: "fh-pulse", "aria-hidden": "true" }),
      queueTitle,
      queueToggle,
    ),
    h(
      "div",
      { class: "fh-queue-body", id: "fh-queue-body" },
      h(
        "p",
        { class: "fh-queue-live", role: "status", "aria-live": "polite" },
        queueText,
        queueEta,
      ),
      queueNext,
      backButton,
    ),
    queueError,
  );
  const log = h("ol", {
    class: "fh-log",
    role: "log",
    "aria-live": "polite",
    "aria-labelledby": "fh-log-label",
    tabindex: "0",
  });
  const logLabel = h("h3", { class: "fh-sr", id: "fh-log-label", text: T.log });
  const typing = h(
    "div",
    { class: "fh-typing", hidden: true },
    h("span", { class: "fh-dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")),
    h("span", { class: "fh-typing-text" }),
  );
  const input = h("textarea", {
    id: "fh-input",
    class: "fh-input",
    rows: "1",
    placeholder: T.placeholder,
    maxlength: String(MAX_CHARS),
    "aria-describedby": "fh-input-error",
    autocomplete: "off",
  });
  const inputError = h("p", { class: "fh-error", id: "fh-input-error", role: "alert" });
  const sendButton = h(
    "button",
    { class: "fh-send", type: "submit", "aria-label": T.send },
    icon("send"),
  );
  const composer = h(
    "form",
    { class: "fh-composer", novalidate: true },
    h("label", { class: "fh-sr", for: "fh-input", text: T.input }),
    input,
    sendButton,
  );
  const panel = h(
    "section",
    {
      class: "fh-panel",
      id: "fh-panel",
      role: "dialog",
      "aria-labelledby": "fh-title",
      hidden: true,
    },
    header,
    banner,
    queueCard,
    h("div", { class: "fh-scroll" }, logLabel, log, typing),
    inputError,
    composer,
  );
  const box = h("div", { class: "fh-root", lang: language }, panel, launcher);
  root.append(stylesheet, box);

  // The service says which language the conversation is in; when that is not the one shown,
  // every word of the widget's own changes to it (the messages are what they were).
  function setLanguage(code) {
    const same = baseLanguage(code) === state.language;
    state.language = baseLanguage(code);
    if (!same) persist();
    if (!chooseLanguage(code)) return;
    box.lang = language;
    launcher.querySelector(".fh-launcher-text").textContent = T.launcher;
    setUnread(state.unread);
    if (state.open) launcher.setAttribute("aria-label", T.minimise);
    header.querySelector(".fh-title").textContent = OPTIONS.title();
    minimise.setAttribute("aria-label", T.minimise);
    queueToggle.setAttribute("aria-label", queueFolded() ? T.unfoldQueue : T.foldQueue);
    backButton.textContent = T.backToBot;
    logLabel.textContent = T.log;
    composer.querySelector("label").textContent = T.input;
    sendButton.setAttribute("aria-label", T.send);
    setMode(state.mode);
    for (const li of log.querySelectorAll(".fh-msg")) {
      const who = senderOf({ role: li.dataset.role, agent: li.dataset.agent });
      const sender = li.querySelector(".fh-sender");
      if (sender) sender.textContent = who.label;
      const said = li.querySelector(".fh-sr");
      if (said) said.textContent = `${who.said} `;
      if (li.dataset.state) setDelivery(li, li.dataset.state);
    }
    const greeting = log.querySelector(".fh-greeting .fh-text");
    if (greeting) greeting.replaceChildren(linkify(OPTIONS.greeting()));
  }

  // the service's reasons are in English: another language gets the widget's own words
  function reason(failure) {
    if (failure.code === "message_too_long") return T.tooLong(MAX_CHARS);
    return T === STRINGS.en && failure.message ? failure.message : T.error;
  }

  function applyAccent(colour) {
    if (!colour || !CSS.supports("color", colour)) return;
    host.style.setProperty("--fh-accent", colour);
    // pick white or near-black text on the accent, whichever reads better (WCAG contrast)
    const probe = document.createElement("span");
    probe.style.color = colour;
    document.documentElement.append(probe);
    const rgb = getComputedStyle(probe).color.match(/\d+(\.\d+)?/g) || ["0", "0", "0"];
    probe.remove();
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    host.style.setProperty("--fh-on-accent", 1.05 / (lum + 0.05) >= 4.5 ? "#ffffff" : "#111418");
  }

  // --- opening and closing -----------------------------------------------------------------

  function setOpen(open, focus = true) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.querySelector(".fh-icon").replaceWith(icon(open ? "close" : "chat"));
    host.classList.toggle("fh-is-open", open);
    if (open) launcher.setAttribute("aria-label", T.minimise);
    if (open) {
      setUnread(0);
      scrollToEnd(true);
      if (focus) input.focus();
      if (state.conversationId) connect();
    } else {
      setUnread(state.unread);
      if (focus) launcher.focus();
    }
    persist();
  }
  launcher.addEventListener("click", () => setOpen(!state.open));
  minimise.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false);
    }
  });

  function setUnread(count) {
    state.unread = count;
    badge.hidden = count === 0;
    badge.textContent = count > 9 ? "9+" : String(count);
    if (!state.open)
      launcher.setAttribute("aria-label", count ? T.launcherUnread(count) : T.launcher);
  }

  // --- messages ----------------------------------------------------------------------------

  const shown = new Map(); // seq -> <li>
  const pending = new Map(); // client_msg_id -> <li> not yet stored

  function nearEnd() {
    const scroller = log.parentElement;
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  }
  function scrollToEnd(force) {
    const scroller = log.parentElement;
    if (force || nearEnd())
      requestAnimationFrame(() => (scroller.scrollTop = scroller.scrollHeight));
  }
  // When the transcript's box shrinks (the queue card, a phone's keyboard) a reader at the end
  // stays at the end.
  let atEnd = true;
  log.parentElement.addEventListener("scroll", () => (atEnd = nearEnd()), { passive: true });
  new ResizeObserver(() => atEnd && scrollToEnd(true)).observe(log.parentElement);

  function senderOf(message) {
    if (message.role === "customer") return { label: T.you, said: T.youSaid };
    if (message.role === "agent") {
      const name = message.agent || state.agent || T.customerCare;
      return { label: T.personStatus(name), said: T.personSaid(name) };
    }
    if (message.role === "bot" || message.role === "greeting")
      return { label: T.assistant, said: T.assistantSaid };
    return { label: "", said: T.notice };
  }

  function bubble(message) {
    const role = message.role === "greeting" ? "bot" : message.role;
    const time = when(message.created_at);
    const who = senderOf(message);
    const li = h("li", { class: `fh-msg fh-${role}`, "data-role": role });
    if (role === "system") {
      li.append(
        h(
          "p",
          { class: "fh-notice" },
          h("span", { class: "fh-sr", text: `${who.said} ` }),
          h("span", { class: "fh-text" }, linkify(message.text)),
        ),
      );
      return li;
    }
    li.append(
      h("p", { class: "fh-sender", "aria-hidden": "true", text: who.label }),
      h(
        "div",
        { class: "fh-bubble" },
        h("span", { class: "fh-sr", text: `${who.said} ` }),
        h("span", { class: "fh-text" }, linkify(message.text)),
      ),
      h(
        "p",
        { class: "fh-meta" },
        h("time", { datetime: time.iso, text: time.text }),
        role === "customer" ? h("span", { class: "fh-state" }) : null,
      ),
    );
    return li;
  }

  function setDelivery(li, stateName) {
    const holder = li.querySelector(".fh-state");
    if (!holder) return;
    li.dataset.state = stateName;
    holder.replaceChildren();
    if (stateName === "failed") {
      holder.append(
        h("span", { class: "fh-failed", text: T.failed }),
        h("button", {
          class: "fh-link",
          type: "button",
          text: T.retry,
          onclick: () => retry(li.dataset.clientMsgId),
        }),
      );
    } else {
      holder.append(h("span", { text: stateName === "sent" ? `· ${T.sent}` : `· ${T.sending}` }));
    }
  }

  // a sender label only where the sender changes
  function regroup(li) {
    for (const node of [li, li.nextElementSibling]) {
      if (!node) continue;
      const before = node.previousElementSibling;
      node.classList.toggle(
        "fh-cont",
        Boolean(
          before &&
            before.dataset.role === node.dataset.role &&
            (before.dataset.agent || "") === (node.dataset.agent || ""),
        ),
      );
    }
  }

  // stored messages by seq; pending ones after all of them
  function place(li, seq) {
    let next = null;
    for (const node of log.children) {
      const other = node.dataset.seq ? Number(node.dataset.seq) : Infinity;
      if (other > seq) {
        next = node;
        break;
      }
    }
    log.insertBefore(li, next);
    regroup(li);
  }

  function addStored(message) {
    if (typeof message.seq !== "number" || shown.has(message.seq)) return false;
    let li = message.client_msg_id ? pending.get(message.client_msg_id) : null;
    if (li) {
      pending.delete(message.client_msg_id);
      dropFromOutbox(message.client_msg_id);
      li.remove();
      const time = li.querySelector("time");
      const stamp = when(message.created_at);
      time.dateTime = stamp.iso;
      time.textContent = stamp.text;
    } else {
      li = bubble(message);
    }
    li.dataset.seq = String(message.seq);
    if (message.agent) li.dataset.agent = message.agent;
    if (message.role === "customer") setDelivery(li, "sent");
    shown.set(message.seq, li);
    place(li, message.seq);
    while (shown.has(state.contiguous + 1)) state.contiguous += 1;
    decorate(li, message);
    return true;
  }

  function decorate(li, message) {
    if (message.agent && message.agent !== state.agent) {
      state.agent = message.agent;
      setMode(state.mode); // the header names the person
    }
    if (message.role !== "customer") {
      state.lastReplySeq = Math.max(state.lastReplySeq, message.seq);
      if (message.role !== "system") hideTyping();
    }
    hideQuickReplies(); // only the newest answer's suggestions are offered
    if (Array.isArray(message.buttons) && message.buttons.length)
      li.append(quickReplies(message.buttons));
    if (message.survey) li.append(survey(message));
    if (message.callback && state.mode === "queued" && !state.callbackDone[state.conversationId]) {
      li.append(callbackForm());
      scrollToEnd(true); // the newest thing, and the customer's next step: shown whole
    }
  }

  function quickReplies(buttons) {
    const group = h("div", { class: "fh-quick", role: "group", "aria-label": T.suggested });
    for (const button of buttons.slice(0, 6)) {
      const title = String(button.title || button.payload || "");
      const payload = String(button.payload || title);
      if (!title) continue;
      // the customer said what the chip says, in their language; the bot gets the payload
      // (English), which is not the customer's writing: it does not change the language
      const asked = payload === title || payload.startsWith("/") ? null : payload;
      group.append(
        h("button", {
          type: "button",
          class: "fh-chip",
          text: title,
          onclick: () => submit(title, asked),
        }),
      );
    }
    return group;
  }
  function hideQuickReplies() {
    for (const group of log.querySelectorAll(".fh-quick")) group.remove();
  }

  function survey(message) {
    const box = h("div", { class: "fh-survey" });
    const key = `${state.conversationId}:${message.seq}`;
    if (state.rated[key]) {
      box.append(h("p", { class: "fh-thanks", text: T.surveyThanks(state.rated[key]) }));
      return box;
    }
    const scale =
      Array.isArray(message.scale) && message.scale.length ? message.scale : [1, 2, 3, 4, 5];
    const group = h("div", { class: "fh-scale", role: "group", "aria-label": T.surveyLabel });
    const status = h("p", { class: "fh-thanks", role: "status" });
    const ends = Array.isArray(message.scale_ends) && message.scale_ends.length === 2;
    const words = ends
      ? scale.map((_, i) =>
          i === 0 ? message.scale_ends[0] : i === scale.length - 1 ? message.scale_ends[1] : "",
        )
      : T.scale;
    for (const [index, score] of scale.entries()) {
      const label = String(words[index] || "");
      group.append(
        h(
          "button",
          {
            type: "button",
            class: "fh-score",
            "aria-label": label ? `${score}, ${label}` : String(score),
            onclick: () => rate(score),
          },
          h("span", { class: "fh-score-n", text: String(score) }),
          label ? h("span", { class: "fh-score-label", "aria-hidden": "true", text: label }) : null,
        ),
      );
    }
    async function rate(score) {
      for (const b of group.querySelectorAll("button")) b.disabled = true;
      try {
        await api("POST", `/api/conversations/${state.conversationId}/satisfaction`, { score });
        state.rated[key] = score;
        persist();
        group.remove();
        status.textContent = T.surveyThanks(score);
      } catch {
        for (const b of group.querySelectorAll("button")) b.disabled = false;
        status.textContent = T.error;
      }
    }
    box.append(group, status);
    return box;
  }

  let formCount = 0;
  function callbackForm() {
    const n = ++formCount;
    const field = (name, label, type, extra = {}) =>
      h(
        "div",
        { class: "fh-field" },
        h("label", { for: `fh-cb-${name}-${n}`, text: label }),
        h(type === "textarea" ? "textarea" : "input", {
          id: `fh-cb-${name}-${n}`,
          name,
          type: type === "textarea" ? undefined : type,
          ...extra,
        }),
      );
    const error = h("p", { class: "fh-error", role: "alert" });
    const form = h(
      "form",
      { class: "fh-callback", novalidate: true, "aria-labelledby": `fh-cb-title-${n}` },
      h("h4", { id: `fh-cb-title-${n}`, text: T.callbackTitle }),
      h("p", { class: "fh-hint", text: T.callbackHint }),
      field("name", T.callbackName, "text", { autocomplete: "name", maxlength: "100" }),
      field("email", T.callbackEmail, "email", {
        autocomplete: "email",
        maxlength: "200",
        value: state.contact?.email || "", // the shop has it for a signed-in customer
      }),
      field("phone", T.callbackPhone, "tel", { autocomplete: "tel", maxlength: "40" }),
      field("note", T.callbackNote, "textarea", { rows: "2", maxlength: "500" }),
      error,
      h("button", { type: "submit", class: "fh-primary", text: T.callbackSend }),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {};
      for (const name of ["name", "email", "phone", "note"]) {
        const value = form.elements[name].value.trim();
        if (value) body[name] = value;
      }
      if (!body.email && !body.phone) {
        error.textContent = T.callbackHint;
        form.elements.email.focus();
        return;
      }
      if (body.email && !EMAIL_PATTERN.test(body.email)) {
        error.textContent = T.badEmail;
        form.elements.email.focus();
        return;
      }
      if (body.phone && !PHONE_PATTERN.test(body.phone)) {
        error.textContent = T.badPhone;
        form.elements.phone.focus();
        return;
      }
      error.textContent = "";
      form.querySelector("button[type=submit]").disabled = true;
      try {
        await api("POST", `/api/conversations/${state.conversationId}/callback`, body);
        // the service's notice thanks them; the card says how and when they'll hear from us
        state.callbackDone[state.conversationId] = {
          contact: body.email || body.phone,
          availability: queueCard.dataset.availability || "no_agents_online",
        };
        persist();
        form.remove();
        showQueue();
      } catch (failure) {
        error.textContent = reason(failure);
        form.querySelector("button[type=submit]").disabled = false;
      }
    });
    return form;
  }

  function showGreeting() {
    const li = bubble({ role: "greeting", text: OPTIONS.greeting() });
    li.classList.add("fh-greeting");
    li.querySelector(".fh-meta").remove();
    li.dataset.seq = "0";
    log.prepend(li);
    const suggestions = OPTIONS.suggestions();
    if (!state.conversationId && suggestions.length) {
      li.append(quickReplies(suggestions.map((s) => ({ title: s, payload: s }))));
    }
  }

  // --- typing --------------------------------------------------------------------------------

  let typingTimer = null;
  function showTyping(text, ms) {
    typing.querySelector(".fh-typing-text").textContent = text;
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, ms);
    scrollToEnd();
  }
  function hideTyping() {
    clearTimeout(typingTimer);
    typing.hidden = true;
  }

  // --- mode, queue, header -----------------------------------------------------------------

  function setMode(mode, frame = {}) {
    const before = state.mode;
    state.mode = mode;
    if (frame.agent) state.agent = frame.agent;
    panel.dataset.mode = mode;
    queueCard.hidden = mode !== "queued";
    if (mode === "queued" && before !== "queued") {
      state.queueFrame = null;
      queueError.textContent = "";
      backButton.disabled = false;
      scrollToEnd(true); // the card takes height from the transcript: keep its newest in view
    }
    if (mode === "queued") showQueue();
    if (mode !== "bot") hideTyping();
    if (mode !== "queued") for (const form of log.querySelectorAll(".fh-callback")) form.remove();
    avatar.replaceChildren(mode === "assigned" ? personInitial() : icon("paw"));
    avatar.classList.toggle("fh-avatar-person", mode === "assigned");
    statusLine.textContent =
      mode === "assigned"
        ? T.personStatus(state.agent || T.customerCare)
        : mode === "queued"
          ? T.queuedStatus
          : mode === "closed"
            ? T.closedStatus
            : T.botStatus;
    input.placeholder = mode === "closed" ? T.placeholderClosed : T.placeholder;
  }
  function personInitial() {
    return state.agent
      ? h("span", { class: "fh-initial", text: state.agent.trim().charAt(0).toUpperCase() })
      : icon("person");
  }

  function onQueue(frame) {
    if (state.mode !== "queued" || frame.position === null || frame.position === undefined) return;
    state.queueFrame = frame;
    queueCard.dataset.availability = frame.availability || "open";
    showQueue();
  }

  // One thing at a time (issue 12, item 2): the place in line and the wait while someone can
  // answer; nothing of the kind when nobody can (the notice in the transcript says what happens
  // and offers the form); once details are left, how and when we'll be in touch.
  function showQueue() {
    const frame = state.queueFrame;
    const done = state.callbackDone[state.conversationId];
    const open = (queueCard.dataset.availability || "open") === "open";
    let line = "";
    let eta = "";
    if (!done && open) {
      line = frame ? T.position(frame.position) : T.findingPlace;
      if (frame && Array.isArray(frame.estimated_wait_range))
        eta = T.eta(etaText(frame.estimated_wait_range));
    }
    const title = done ? T.doneTitle : open ? T.handoffTitle : T.offlineTitle;
    if (queueTitle.textContent !== title) queueTitle.textContent = title;
    if (queueText.textContent !== line) queueText.textContent = line;
    if (queueEta.textContent !== eta) queueEta.textContent = eta;
    queueText.parentElement.hidden = !line && !eta;
    const next =
      done?.contact &&
      (done.availability === "out_of_hours" ? T.contactWhenOpen : T.contactWhenBack)(done.contact);
    queueNext.textContent = next || "";
    queueNext.hidden = !next;
  }

  function queueFolded() {
    return queueToggle.getAttribute("aria-expanded") === "false";
  }
  queueToggle.addEventListener("click", () => {
    const stick = nearEnd();
    const fold = !queueFolded();
    queueToggle.setAttribute("aria-expanded", String(!fold));
    queueToggle.setAttribute("aria-label", fold ? T.unfoldQueue : T.foldQueue);
    queueCard.querySelector(".fh-queue-body").hidden = fold;
    queueCard.classList.toggle("fh-queue-folded", fold);
    scrollToEnd(stick);
  });

  backButton.addEventListener("click", async () => {
    backButton.disabled = true;
    queueError.textContent = "";
    try {
      await api("POST", `/api/conversations/${state.conversationId}/back-to-bot`);
      setMode("bot");
      input.focus();
    } catch (failure) {
      queueError.textContent = failure.status === 409 ? T.backFailed : T.error;
      backButton.disabled = false;
    }
  });

  // --- talking to the service --------------------------------------------------------------

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(SERVICE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      mode: "cors",
      credentials: "omit",
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (!response.ok) {
      const failure = new Error(answer?.message || `HTTP ${response.status}`);
      failure.status = response.status;
      failure.code = answer?.error;
      failure.retryAfter = answer?.retry_after;
      throw failure;
    }
    return answer;
  }

  async function ensureConversation() {
    if (state.conversationId) return;
    if (!state.starting) {
      state.starting = (async () => {
        const body = { language };
        if (OPTIONS.customer) body.customer = OPTIONS.customer;
        let started;
        try {
          started = await api("POST", "/api/conversations", body);
        } catch (failure) {
          if (failure.code !== "invalid_customer") throw failure;
          // an expired or bad identity must not stop someone from getting help
          delete body.customer;
          started = await api("POST", "/api/conversations", body);
        }
        state.conversationId = started.conversation_id;
        state.token = started.token;
        state.expires = started.expires;
        state.contact = started.contact || null;
        state.language = language;
        persist();
        for (const group of log.querySelectorAll(".fh-greeting .fh-quick")) group.remove();
      })().finally(() => (state.starting = null));
    }
    await state.starting;
  }

  const conn = {
    ws: null,
    ready: false,
    attempts: 0,
    retryTimer: null,
    pollTimer: null,
    downSince: Date.now(),
  };

  function connect() {
    if (!state.conversationId || conn.ws || conn.retryTimer) return;
    const id = encodeURIComponent(state.conversationId);
    const url = `${SERVICE.replace(/^http/, "ws")}/api/conversations/${id}/ws`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      scheduleReconnect();
      return;
    }
    conn.ws = ws;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ type: "hello", token: state.token, since_seq: state.contiguous }));
      conn.ready = true;
      conn.attempts = 0;
      setBanner(null);
      stopPolling();
      for (const item of state.outbox) sendOverSocket(item);
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (conn.ws !== ws) return;
      conn.ws = null;
      conn.ready = false;
      conn.downSince = Date.now();
      if (event.code === 4401 || event.code === 4404) {
        forget();
        return;
      }
      if (event.code === 4429) {
        // the conversation is open in too many tabs: this one polls, and tries again later
        startPolling();
        clearTimeout(conn.retryTimer);
        conn.retryTimer = setTimeout(() => {
          conn.retryTimer = null;
          connect();
        }, 30000);
        return;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (conn.retryTimer) return;
    conn.attempts += 1;
    if (conn.attempts > 1) setBanner(navigator.onLine === false ? T.offline : T.reconnecting);
    const delay =
      Math.min(10000, 400 * 2 ** Math.min(conn.attempts, 5)) * (0.6 + Math.random() * 0.4);
    conn.retryTimer = setTimeout(() => {
      conn.retryTimer = null;
      connect();
    }, delay);
    if (conn.attempts >= 2) startPolling();
  }

  function reconnectNow() {
    clearTimeout(conn.retryTimer);
    conn.retryTimer = null;
    if (conn.ws && !conn.ready) return;
    if (conn.ws) conn.ws.close();
    else connect();
  }
  window.addEventListener("online", () => {
    setBanner(T.reconnecting);
    conn.attempts = 0;
    reconnectNow();
  });
  window.addEventListener("offline", () => setBanner(T.offline));

  function setBanner(text) {
    banner.hidden = !text;
    banner.textContent = text || "";
  }

  // while the socket is down: catch up over HTTP
  function startPolling() {
    if (conn.pollTimer || !state.conversationId) return;
    conn.pollTimer = setInterval(() => catchUp().catch(() => {}), POLL_MS);
  }
  function stopPolling() {
    clearInterval(conn.pollTimer);
    conn.pollTimer = null;
  }
  async function catchUp() {
    if (!state.conversationId) return;
    const answer = await api(
      "GET",
      `/api/conversations/${state.conversationId}/messages?since_seq=${state.contiguous}`,
    );
    let added = false;
    if (answer.language) setLanguage(answer.language);
    if (answer.mode && answer.mode !== state.mode) setMode(answer.mode);
    for (const message of answer.messages || []) added = onMessage(message, true) || added;
    return answer;
  }

  function onFrame(frame) {
    if (frame.conversation_id && frame.conversation_id !== state.conversationId) return;
    switch (frame.type) {
      case "message":
        onMessage(frame, false);
        break;
      case "mode":
        if (frame.language) setLanguage(frame.language);
        if (frame.mode !== state.mode || frame.agent) setMode(frame.mode, frame);
        break;
      case "queue":
        onQueue(frame);
        break;
      case "typing":
        if (frame.role === "agent")
          showTyping(T.typingPerson(frame.name || state.agent || T.customerCare), 4000);
        break;
      case "ack":
        onAck(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break;
    }
  }

  function onMessage(message, replay) {
    const mine = message.role === "customer";
    const stick = nearEnd(); // before it grows
    const added = addStored(message);
    if (!added) return false;
    if (message.seq > state.contiguous + 1)
      setTimeout(() => message.seq > state.contiguous + 1 && catchUp().catch(() => {}), 1500);
    if (!mine && !replay && (!state.open || document.hidden)) setUnread(state.unread + 1);
    scrollToEnd(mine || stick);
    return true;
  }

  // --- sending -------------------------------------------------------------------------------

  function pendingBubble(item) {
    const li = bubble({ role: "customer", text: item.text, created_at: item.at });
    li.dataset.clientMsgId = item.client_msg_id;
    setDelivery(li, "sending");
    pending.set(item.client_msg_id, li);
    log.append(li);
    regroup(li);
    return li;
  }

  async function submit(text, button = null) {
    text = text.replace(/\s+$/, "");
    if (!text.trim()) return;
    if (text.length > MAX_CHARS) {
      inputError.textContent = T.tooLong(MAX_CHARS);
      return;
    }
    inputError.textContent = "";
    hideQuickReplies();
    const item = { client_msg_id: newId(), text, at: new Date().toISOString() };
    if (button) item.button = button;
    state.outbox.push(item);
    persist();
    pendingBubble(item);
    scrollToEnd(true);
    deliver(item);
  }

  async function deliver(item) {
    try {
      await ensureConversation();
    } catch {
      markFailed(item.client_msg_id);
      return;
    }
    connect();
    if (conn.ready) sendOverSocket(item);
    item.fallback = setTimeout(() => sendOverHttp(item), HTTP_FALLBACK_MS);
  }

  function sendOverSocket(item) {
    if (!conn.ready || !conn.ws) return;
    try {
      conn.ws.send(
        JSON.stringify({
          type: "message",
          client_msg_id: item.client_msg_id,
          text: item.text,
          ...(item.button ? { button: item.button } : {}),
        }),
      );
      item.sentAt = Date.now();
      const li = pending.get(item.client_msg_id);
      if (li) setDelivery(li, "sending");
    } catch {
      /* the close handler reconnects and resends */
    }
  }

  async function sendOverHttp(item) {
    if (!state.outbox.includes(item) || conn.ready) return;
    try {
      const stored = await api("POST", `/api/conversations/${state.conversationId}/messages`, {
        client_msg_id: item.client_msg_id,
        text: item.text,
        ...(item.button ? { button: item.button } : {}),
      });
      onAck({ client_msg_id: stored.client_msg_id, seq: stored.seq });
      catchUp().catch(() => {});
    } catch (failure) {
      if (failure.status && failure.status < 500 && failure.status !== 429)
        markFailed(item.client_msg_id, reason(failure));
      else
        item.fallback = setTimeout(
          () => sendOverHttp(item),
          failure.retryAfter ? failure.retryAfter * 1000 : HTTP_FALLBACK_MS,
        );
    }
  }

  function onAck(frame) {
    dropFromOutbox(frame.client_msg_id);
    const li = pending.get(frame.client_msg_id);
    if (li) setDelivery(li, "sent");
    // the bot is working on an answer, unless it has answered already
    if (state.mode === "bot" && state.lastReplySeq < frame.seq) showTyping(T.typingBot, 12000);
  }

  function onError(frame) {
    if (frame.error === "rate_limited" && frame.client_msg_id) {
      const item = state.outbox.find((i) => i.client_msg_id === frame.client_msg_id);
      if (item) setTimeout(() => sendOverSocket(item), (frame.retry_after || 5) * 1000);
      return;
    }
    if (frame.error === "unavailable") return; // not stored: the watchdog resends
    if ((frame.error || "").startsWith("invalid") || frame.error === "message_too_long") {
      const last = state.outbox[state.outbox.length - 1];
      if (last)
        markFailed(last.client_msg_id, reason({ code: frame.error, message: frame.message }));
    }
  }

  function markFailed(clientMsgId, message) {
    const item = state.outbox.find((i) => i.client_msg_id === clientMsgId);
    if (item) clearTimeout(item.fallback);
    const li = pending.get(clientMsgId);
    if (li) setDelivery(li, "failed");
    if (message) inputError.textContent = message;
  }

  function retry(clientMsgId) {
    const item = state.outbox.find((i) => i.client_msg_id === clientMsgId);
    if (!item) return;
    const li = pending.get(clientMsgId);
    if (li) setDelivery(li, "sending");
    deliver(item);
  }

  function dropFromOutbox(clientMsgId) {
    const item = state.outbox.find((i) => i.client_msg_id === clientMsgId);
    if (!item) return;
    clearTimeout(item.fallback);
    state.outbox = state.outbox.filter((i) => i !== item);
    persist();
  }

  // a message sent but never acknowledged: the socket is dead even if it looks open
  setInterval(() => {
    const stale = state.outbox.some((i) => i.sentAt && Date.now() - i.sentAt > ACK_TIMEOUT_MS);
    if (stale && conn.ws && conn.ready) {
      for (const item of state.outbox) item.sentAt = null;
      conn.ws.close();
    }
  }, 2000);

  function forget() {
    state.conversationId = state.token = state.expires = null;
    state.contiguous = 0;
    stopPolling();
    persist();
    log.append(bubble({ role: "system", text: T.expired }));
    setMode("bot");
    for (const item of state.outbox) deliver(item);
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    resize();
    submit(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  let lastTyping = 0;
  input.addEventListener("input", () => {
    resize();
    inputError.textContent = input.value.length >= MAX_CHARS ? T.tooLong(MAX_CHARS) : "";
    if (conn.ready && state.mode === "assigned" && Date.now() - lastTyping > 2000) {
      lastTyping = Date.now();
      conn.ws.send('{"type":"typing"}');
    }
  });
  function resize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.conversationId && !conn.ready) reconnectNow();
  });

  // --- start -------------------------------------------------------------------------------

  async function restore() {
    showGreeting();
    if (saved.expiredBefore) log.append(bubble({ role: "system", text: T.expired }));
    for (const item of state.outbox) pendingBubble(item);
    if (!state.conversationId) return;
    try {
      await catchUp();
    } catch (failure) {
      if (failure.status === 401 || failure.status === 404) {
        forget();
        return;
      }
    }
    connect();
    for (const item of state.outbox) deliver(item);
  }

  (document.body || document.documentElement).append(host);
  setMode("bot");
  restore().finally(() => setOpen(state.open, false));

  window.FetchAndHomeChat = Object.freeze({
    open: () => setOpen(true),
    close: () => setOpen(false),
    send: (text) => {
      setOpen(true, false);
      return submit(String(text));
    },
  });
}
