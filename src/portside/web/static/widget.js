/* Portside chat widget: the shopper's side of the chat, on a store's own pages.

   A store embeds it with one tag (see docs/widget.md):

     <script src="https://PORTSIDE_HOST/widget.js" data-store="WIDGET_KEY"
             data-product="optional-product-slug" data-lang="optional-lang" async></script>

   It speaks protocol version 1 (docs/protocol.md) over one WebSocket to the server it was
   loaded from. What it has to get right:

   - Nothing typed is lost. A message goes into an outbox (kept in localStorage) with a
     client-made id and stays "pending" until the server's `ack`; after every `welcome` the
     whole outbox is sent again with the same ids, which the server stores only once.
   - Nothing is shown twice. Events carry a per-conversation `seq`; the widget applies each
     seq once and resumes from the highest it applied. The echo of the shopper's own
     message (same client_id) is merged into the bubble already on screen.
   - It lives inside pages it does not control. Everything is in a shadow root; styles go
     in through a constructable stylesheet (allowed by a strict `style-src` policy, unlike a
     <style> element or style attributes); text only ever goes in through textContent or
     text nodes; the only network traffic is the WebSocket to its own server.

   One file with no build step, so stores can load it straight from their Portside;
   attachments are drawn and sent by widget-media.js, loaded only when needed. */
(() => {
  "use strict";

  // document.currentScript only exists while this file first runs, so read it now.
  const script =
    document.currentScript || document.querySelector('script[data-store][src*="widget.js"]');
  const STORE_KEY = script ? (script.dataset.store || "").trim() : "";
  // A page that includes the tag twice gets one widget.
  if (!STORE_KEY || window.Portside || document.getElementById("portside-widget")) return;

  // ---- settings ------------------------------------------------------------------------

  const PROTOCOL_VERSION = 1;
  const FIRST_RETRY_MS = 500; // reconnect backoff: 0.5 s doubling...
  const MAX_RETRY_MS = 15000; // ...up to 15 s...
  const RETRY_JITTER = 0.2; // ...each wait +-20%, so a restarted server is not stampeded
  const TOO_MANY_RETRY_MS = 15000; // close 4429: too many sockets from this address
  const CONNECT_TIMEOUT_MS = 15000; // socket opened but no `welcome` by then: start over
  const DEFAULT_HEARTBEAT_S = 25;
  const MIN_HEARTBEAT_S = 5;
  const TYPING_EVERY_MS = 3000; // `typing: true` at most this often while the shopper types
  const TYPING_IDLE_MS = 4000; // `typing: false` after this long without a key press
  const TYPING_SHOWN_MS = 6000; // the other side's typing lapses unless renewed
  const RATE_LIMIT_MIN_MS = 3000; // after `rate_limited`, wait at least this long...
  const RATE_LIMIT_MAX_MS = 30000; // ...and at most this long, before sending again
  const DEFAULT_MAX_CHARS = 4000; // until `welcome` says otherwise
  const COUNTER_FROM = 0.8; // show "n / max" once the text is this close to the limit
  const TRANSCRIPT_KEPT = 200; // messages kept in localStorage for an instant first paint
  const RENDERED_KEPT = 300; // messages kept on screen; older ones leave the DOM
  const CONTEXT_SETTLE_MS = 300; // after pushState, wait for the app to set document.title
  const SAVE_DELAY_MS = 100; // a replay of many events is written to storage once
  const NEAR_BOTTOM_PX = 80;
  const CLOSE_FATAL = new Set([4403, 4404]); // origin not allowed, unknown store
  const CLOSE_TOO_MANY = 4429;
  const CLIENT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
  const AUTHORS = new Set(["visitor", "agent", "bot", "system"]);
  const FAILED_REASONS = new Set(["message_too_long", "message_empty", "invalid_client_id"]);
  const SYSTEM_LINES = new Set([
    "joined",
    "queued",
    "botBack",
    "reopened",
    "resolved",
    "csatThanks",
  ]);
  const CSAT_SCORES = [1, 2, 3, 4, 5];
  const CSAT_MAX_COMMENT = 1000;

  // ---- text in ten languages -----------------------------------------------------------

  const STRINGS = {
    en: {
      attach: "Attach a file",
      record: "Record a voice note",
      title: "Chat",
      dialog: "Chat with {store}",
      open: "Open chat",
      openUnread: "Open chat ({n} unread)",
      close: "Close chat",
      person: "Talk to a person",
      connecting: "Connecting…",
      reconnecting: "Reconnecting…",
      offline: "You're offline. Messages will be sent when you're back online.",
      unavailable: "Chat isn't available on this site.",
      messages: "Messages",
      input: "Your message",
      placeholder: "Type a message…",
      send: "Send",
      you: "You",
      agent: "Support",
      bot: "Assistant",
      typingNamed: "{name} is typing…",
      typing: "Typing…",
      joined: "{name} joined the conversation",
      queued: "Waiting for a team member…",
      queuePlace: "You're number {n} in line",
      queueWait: "about {m} min",
      queueSoon: "less than a minute",
      queueNobody: "No one from the team is free right now. Stay here: your messages are kept and answered in order.",
      botBack: "You're chatting with our assistant",
      couponCopy: "Copy code",
      couponCopied: "Copied",
      couponExpires: "Valid until {date}",
      dismiss: "Dismiss",
      reopened: "Conversation reopened",
      resolved: "Conversation resolved",
      sending: "Sending…",
      notSent: "Not sent",
      tooLong: "Too long: at most {max} characters",
      empty: "The message is empty",
      failed: "This message couldn't be sent",
      edit: "Edit",
      count: "{n} / {max} characters",
      seeOriginal: "See original",
      seeTranslation: "See translation",
      csatAsk: "How did we do?",
      csatScore: "{n} out of 5",
      csatComment: "Anything to add? (optional)",
      csatSend: "Send",
      csatThanks: "Thank you for your feedback!",
      csatFailed: "Your rating couldn't be sent.",
      csatPick: "Choose a rating first",
    },
    zh: {
      attach: "添加附件",
      record: "录制语音消息",
      title: "聊天",
      dialog: "与 {store} 聊天",
      open: "打开聊天",
      openUnread: "打开聊天（{n} 条未读）",
      close: "关闭聊天",
      person: "联系人工客服",
      connecting: "正在连接…",
      reconnecting: "正在重新连接…",
      offline: "您已离线。恢复网络后消息会自动发送。",
      unavailable: "此网站暂不支持聊天。",
      messages: "消息",
      input: "您的消息",
      placeholder: "输入消息…",
      send: "发送",
      you: "我",
      agent: "客服",
      bot: "智能助手",
      typingNamed: "{name} 正在输入…",
      typing: "对方正在输入…",
      joined: "{name} 加入了对话",
      queued: "正在为您转接人工客服…",
      queuePlace: "您前面还有 {n} 位",
      queueWait: "约 {m} 分钟",
      queueSoon: "不到一分钟",
      queueNobody: "目前没有客服人员空闲。请留在这里：您的消息会被保留并按顺序回复。",
      botBack: "现在由智能助手为您服务",
      reopened: "对话已重新打开",
      resolved: "对话已解决",
      sending: "发送中…",
      notSent: "未发送",
      tooLong: "消息过长：最多 {max} 个字符",
      empty: "消息不能为空",
      failed: "此消息无法发送",
      edit: "编辑",
      count: "{n} / {max} 个字符",
      seeOriginal: "查看原文",
      seeTranslation: "查看译文",
      csatAsk: "我们的服务怎么样？",
      csatScore: "{n} 分（满分 5 分）",
      csatComment: "还有什么想说的吗？（选填）",
      csatSend: "提交",
      csatThanks: "感谢您的反馈！",
      csatFailed: "评分未能提交。",
      csatPick: "请先选择评分",
      couponCopy: "复制优惠码",
      couponCopied: "已复制",
      couponExpires: "有效期至 {date}",
      dismiss: "关闭",
    },
    es: {
      attach: "Adjuntar",
      record: "Grabar una nota de voz",
      title: "Chat",
      dialog: "Chat con {store}",
      open: "Abrir el chat",
      openUnread: "Abrir el chat (sin leer: {n})",
      close: "Cerrar el chat",
      person: "Hablar con una persona",
      connecting: "Conectando…",
      reconnecting: "Reconectando…",
      offline: "Sin conexión. Los mensajes se enviarán cuando vuelvas a estar en línea.",
      unavailable: "El chat no está disponible en este sitio.",
      messages: "Mensajes",
      input: "Tu mensaje",
      placeholder: "Escribe un mensaje…",
      send: "Enviar",
      you: "Tú",
      agent: "Soporte",
      bot: "Asistente",
      typingNamed: "{name} está escribiendo…",
      typing: "Escribiendo…",
      joined: "{name} se unió a la conversación",
      queued: "Esperando a un miembro del equipo…",
      queuePlace: "Eres el número {n} en la fila",
      queueWait: "unos {m} min",
      queueSoon: "menos de un minuto",
      queueNobody: "Ahora mismo no hay nadie del equipo disponible. Quédate aquí: tus mensajes se guardan y se responden en orden.",
      botBack: "Estás hablando con nuestro asistente",
      reopened: "Conversación reabierta",
      resolved: "Conversación resuelta",
      sending: "Enviando…",
      notSent: "No enviado",
      tooLong: "Demasiado largo: máximo {max} caracteres",
      empty: "El mensaje está vacío",
      failed: "No se pudo enviar este mensaje",
      edit: "Editar",
      count: "{n} / {max} caracteres",
      seeOriginal: "Ver original",
      seeTranslation: "Ver traducción",
      csatAsk: "¿Qué tal te hemos atendido?",
      csatScore: "{n} de 5",
      csatComment: "¿Algo más que contarnos? (opcional)",
      csatSend: "Enviar",
      csatThanks: "¡Gracias por tu opinión!",
      csatFailed: "No se pudo enviar tu valoración.",
      csatPick: "Elige primero una puntuación",
      couponCopy: "Copiar código",
      couponCopied: "Copiado",
      couponExpires: "Válido hasta el {date}",
      dismiss: "Cerrar",
    },
    de: {
      attach: "Anhängen",
      record: "Sprachnachricht aufnehmen",
      title: "Chat",
      dialog: "Chat mit {store}",
      open: "Chat öffnen",
      openUnread: "Chat öffnen (ungelesen: {n})",
      close: "Chat schließen",
      person: "Mit einem Menschen sprechen",
      connecting: "Verbindung wird hergestellt…",
      reconnecting: "Verbindung wird wiederhergestellt…",
      offline: "Sie sind offline. Nachrichten werden gesendet, sobald Sie wieder online sind.",
      unavailable: "Der Chat ist auf dieser Website nicht verfügbar.",
      messages: "Nachrichten",
      input: "Ihre Nachricht",
      placeholder: "Nachricht schreiben…",
      send: "Senden",
      you: "Sie",
      agent: "Support",
      bot: "Assistent",
      typingNamed: "{name} schreibt…",
      typing: "Schreibt…",
      joined: "{name} ist dem Gespräch beigetreten",
      queued: "Warten auf eine Person aus dem Team…",
      queuePlace: "Sie sind Nummer {n} in der Warteschlange",
      queueWait: "etwa {m} Min.",
      queueSoon: "weniger als eine Minute",
      queueNobody: "Gerade ist niemand aus dem Team frei. Bleiben Sie hier: Ihre Nachrichten bleiben erhalten und werden der Reihe nach beantwortet.",
      botBack: "Sie chatten mit unserem Assistenten",
      reopened: "Gespräch wieder geöffnet",
      resolved: "Gespräch abgeschlossen",
      sending: "Wird gesendet…",
      notSent: "Nicht gesendet",
      tooLong: "Zu lang: höchstens {max} Zeichen",
      empty: "Die Nachricht ist leer",
      failed: "Diese Nachricht konnte nicht gesendet werden",
      edit: "Bearbeiten",
      count: "{n} / {max} Zeichen",
      seeOriginal: "Original anzeigen",
      seeTranslation: "Übersetzung anzeigen",
      csatAsk: "Wie zufrieden waren Sie?",
      csatScore: "{n} von 5",
      csatComment: "Möchten Sie noch etwas sagen? (optional)",
      csatSend: "Senden",
      csatThanks: "Vielen Dank für Ihr Feedback!",
      csatFailed: "Ihre Bewertung konnte nicht gesendet werden.",
      csatPick: "Bitte wählen Sie zuerst eine Bewertung",
      couponCopy: "Code kopieren",
      couponCopied: "Kopiert",
      couponExpires: "Gültig bis {date}",
      dismiss: "Schließen",
    },
    fr: {
      attach: "Joindre",
      record: "Enregistrer un message vocal",
      title: "Chat",
      dialog: "Discuter avec {store}",
      open: "Ouvrir le chat",
      openUnread: "Ouvrir le chat (non lus : {n})",
      close: "Fermer le chat",
      person: "Parler à une personne",
      connecting: "Connexion…",
      reconnecting: "Reconnexion…",
      offline: "Vous êtes hors ligne. Vos messages seront envoyés dès votre retour en ligne.",
      unavailable: "Le chat n'est pas disponible sur ce site.",
      messages: "Messages",
      input: "Votre message",
      placeholder: "Écrivez un message…",
      send: "Envoyer",
      you: "Vous",
      agent: "Support",
      bot: "Assistant",
      typingNamed: "{name} est en train d'écrire…",
      typing: "En train d'écrire…",
      joined: "{name} a rejoint la conversation",
      queued: "En attente d'un membre de l'équipe…",
      queuePlace: "Vous êtes le numéro {n} dans la file",
      queueWait: "environ {m} min",
      queueSoon: "moins d'une minute",
      queueNobody: "Personne de l'équipe n'est disponible pour le moment. Restez ici : vos messages sont conservés et traités dans l'ordre.",
      botBack: "Vous discutez avec notre assistant",
      reopened: "Conversation rouverte",
      resolved: "Conversation résolue",
      sending: "Envoi…",
      notSent: "Non envoyé",
      tooLong: "Trop long : {max} caractères au maximum",
      empty: "Le message est vide",
      failed: "Impossible d'envoyer ce message",
      edit: "Modifier",
      count: "{n} / {max} caractères",
      seeOriginal: "Voir l'original",
      seeTranslation: "Voir la traduction",
      csatAsk: "Comment avons-nous été ?",
      csatScore: "{n} sur 5",
      csatComment: "Un commentaire ? (facultatif)",
      csatSend: "Envoyer",
      csatThanks: "Merci pour votre avis !",
      csatFailed: "Votre note n'a pas pu être envoyée.",
      csatPick: "Choisissez d'abord une note",
      couponCopy: "Copier le code",
      couponCopied: "Copié",
      couponExpires: "Valable jusqu'au {date}",
      dismiss: "Fermer",
    },
    ja: {
      attach: "添付",
      record: "ボイスメッセージを録音",
      title: "チャット",
      dialog: "{store}とのチャット",
      open: "チャットを開く",
      openUnread: "チャットを開く（未読 {n} 件）",
      close: "チャットを閉じる",
      person: "担当者と話す",
      connecting: "接続中…",
      reconnecting: "再接続中…",
      offline: "オフラインです。オンラインに戻るとメッセージが送信されます。",
      unavailable: "このサイトではチャットをご利用いただけません。",
      messages: "メッセージ",
      input: "メッセージ",
      placeholder: "メッセージを入力…",
      send: "送信",
      you: "あなた",
      agent: "サポート",
      bot: "アシスタント",
      typingNamed: "{name}が入力中…",
      typing: "入力中…",
      joined: "{name}が会話に参加しました",
      queued: "担当者におつなぎしています…",
      queuePlace: "順番待ち：{n} 番目",
      queueWait: "約 {m} 分",
      queueSoon: "1分以内",
      queueNobody: "現在対応できる担当者がいません。このままお待ちください。メッセージは保存され、順番に対応します。",
      botBack: "アシスタントが対応しています",
      reopened: "会話が再開されました",
      resolved: "会話は解決済みです",
      sending: "送信中…",
      notSent: "未送信",
      tooLong: "長すぎます：最大 {max} 文字",
      empty: "メッセージが空です",
      failed: "このメッセージを送信できませんでした",
      edit: "編集",
      count: "{n} / {max} 文字",
      seeOriginal: "原文を表示",
      seeTranslation: "翻訳を表示",
      csatAsk: "対応はいかがでしたか？",
      csatScore: "5段階中{n}",
      csatComment: "ご意見があればお聞かせください（任意）",
      csatSend: "送信",
      csatThanks: "ご意見ありがとうございました！",
      csatFailed: "評価を送信できませんでした。",
      csatPick: "まず評価を選んでください",
      couponCopy: "コードをコピー",
      couponCopied: "コピーしました",
      couponExpires: "{date}まで有効",
      dismiss: "閉じる",
    },
    pt: {
      attach: "Anexar",
      record: "Gravar mensagem de voz",
      title: "Chat",
      dialog: "Conversar com {store}",
      open: "Abrir o chat",
      openUnread: "Abrir o chat (não lidas: {n})",
      close: "Fechar o chat",
      person: "Falar com uma pessoa",
      connecting: "Conectando…",
      reconnecting: "Reconectando…",
      offline: "Você está offline. As mensagens serão enviadas quando a conexão voltar.",
      unavailable: "O chat não está disponível neste site.",
      messages: "Mensagens",
      input: "Sua mensagem",
      placeholder: "Digite uma mensagem…",
      send: "Enviar",
      you: "Você",
      agent: "Suporte",
      bot: "Assistente",
      typingNamed: "{name} está digitando…",
      typing: "Digitando…",
      joined: "{name} entrou na conversa",
      queued: "Aguardando um membro da equipe…",
      queuePlace: "Você é o número {n} na fila",
      queueWait: "cerca de {m} min",
      queueSoon: "menos de um minuto",
      queueNobody: "Ninguém da equipe está livre agora. Fique aqui: suas mensagens ficam guardadas e são respondidas em ordem.",
      botBack: "Você está conversando com nosso assistente",
      reopened: "Conversa reaberta",
      resolved: "Conversa resolvida",
      sending: "Enviando…",
      notSent: "Não enviada",
      tooLong: "Muito longa: no máximo {max} caracteres",
      empty: "A mensagem está vazia",
      failed: "Não foi possível enviar esta mensagem",
      edit: "Editar",
      count: "{n} / {max} caracteres",
      seeOriginal: "Ver original",
      seeTranslation: "Ver tradução",
      csatAsk: "Como foi o nosso atendimento?",
      csatScore: "{n} de 5",
      csatComment: "Quer acrescentar algo? (opcional)",
      csatSend: "Enviar",
      csatThanks: "Obrigado pela sua avaliação!",
      csatFailed: "Não foi possível enviar a sua avaliação.",
      csatPick: "Escolha uma nota primeiro",
      couponCopy: "Copiar código",
      couponCopied: "Copiado",
      couponExpires: "Válido até {date}",
      dismiss: "Fechar",
    },
    ko: {
      attach: "첨부",
      record: "음성 메시지 녹음",
      title: "채팅",
      dialog: "{store} 채팅",
      open: "채팅 열기",
      openUnread: "채팅 열기 (읽지 않음 {n}개)",
      close: "채팅 닫기",
      person: "상담원과 대화하기",
      connecting: "연결 중…",
      reconnecting: "다시 연결 중…",
      offline: "오프라인 상태입니다. 다시 연결되면 메시지가 전송됩니다.",
      unavailable: "이 사이트에서는 채팅을 사용할 수 없습니다.",
      messages: "메시지",
      input: "메시지",
      placeholder: "메시지를 입력하세요…",
      send: "보내기",
      you: "나",
      agent: "상담원",
      bot: "어시스턴트",
      typingNamed: "{name}님이 입력 중…",
      typing: "입력 중…",
      joined: "{name}님이 대화에 참여했습니다",
      queued: "상담원을 연결하고 있습니다…",
      queuePlace: "대기 순서: {n}번째",
      queueWait: "약 {m}분",
      queueSoon: "1분 이내",
      queueNobody: "지금은 응대 가능한 상담원이 없습니다. 이곳에 머물러 주세요. 메시지는 보관되며 순서대로 답변드립니다.",
      botBack: "어시스턴트와 대화하고 있습니다",
      reopened: "대화가 다시 열렸습니다",
      resolved: "대화가 해결되었습니다",
      sending: "보내는 중…",
      notSent: "전송되지 않음",
      tooLong: "너무 깁니다: 최대 {max}자",
      empty: "메시지가 비어 있습니다",
      failed: "이 메시지를 보낼 수 없습니다",
      edit: "수정",
      count: "{n} / {max}자",
      seeOriginal: "원문 보기",
      seeTranslation: "번역 보기",
      csatAsk: "상담은 어떠셨나요?",
      csatScore: "5점 중 {n}점",
      csatComment: "더 하실 말씀이 있나요? (선택)",
      csatSend: "보내기",
      csatThanks: "소중한 의견 감사합니다!",
      csatFailed: "평가를 보내지 못했어요.",
      csatPick: "먼저 점수를 선택해 주세요",
      couponCopy: "코드 복사",
      couponCopied: "복사됨",
      couponExpires: "{date}까지 유효",
      dismiss: "닫기",
    },
    ar: {
      attach: "إرفاق",
      record: "تسجيل رسالة صوتية",
      title: "المحادثة",
      dialog: "محادثة مع {store}",
      open: "افتح المحادثة",
      openUnread: "افتح المحادثة (غير المقروءة: {n})",
      close: "أغلق المحادثة",
      person: "التحدث إلى موظف",
      connecting: "جارٍ الاتصال…",
      reconnecting: "جارٍ إعادة الاتصال…",
      offline: "أنت غير متصل. سيتم إرسال الرسائل عند عودة الاتصال.",
      unavailable: "المحادثة غير متاحة على هذا الموقع.",
      messages: "الرسائل",
      input: "رسالتك",
      placeholder: "اكتب رسالة…",
      send: "إرسال",
      you: "أنت",
      agent: "الدعم",
      bot: "المساعد",
      typingNamed: "{name} يكتب…",
      typing: "يكتب الآن…",
      joined: "{name} في المحادثة الآن",
      queued: "بانتظار أحد أعضاء الفريق…",
      queuePlace: "ترتيبك في الانتظار: {n}",
      queueWait: "حوالي {m} دقيقة",
      queueSoon: "أقل من دقيقة",
      queueNobody: "لا يوجد أحد من الفريق متاح الآن. ابقَ هنا: رسائلك محفوظة وسيُرد عليها بالترتيب.",
      botBack: "أنت تتحدث مع مساعدنا",
      reopened: "أُعيد فتح المحادثة",
      resolved: "تم حل المحادثة",
      sending: "جارٍ الإرسال…",
      notSent: "لم تُرسل",
      tooLong: "الرسالة طويلة جدًا: الحد الأقصى {max} حرف",
      empty: "الرسالة فارغة",
      failed: "تعذّر إرسال هذه الرسالة",
      edit: "تعديل",
      count: "{n} / {max} حرف",
      seeOriginal: "عرض النص الأصلي",
      seeTranslation: "عرض الترجمة",
      csatAsk: "كيف كانت خدمتنا؟",
      csatScore: "{n} من 5",
      csatComment: "هل لديك ما تضيفه؟ (اختياري)",
      csatSend: "إرسال",
      csatThanks: "شكرًا لملاحظاتك!",
      csatFailed: "تعذّر إرسال تقييمك.",
      csatPick: "اختر تقييمًا أولًا",
      couponCopy: "نسخ الرمز",
      couponCopied: "تم النسخ",
      couponExpires: "صالح حتى {date}",
      dismiss: "إغلاق",
    },
    ru: {
      attach: "Прикрепить",
      record: "Записать голосовое сообщение",
      title: "Чат",
      dialog: "Чат с {store}",
      open: "Открыть чат",
      openUnread: "Открыть чат (непрочитанных: {n})",
      close: "Закрыть чат",
      person: "Связаться с человеком",
      connecting: "Подключение…",
      reconnecting: "Переподключение…",
      offline: "Нет соединения. Сообщения будут отправлены, когда связь восстановится.",
      unavailable: "Чат недоступен на этом сайте.",
      messages: "Сообщения",
      input: "Ваше сообщение",
      placeholder: "Напишите сообщение…",
      send: "Отправить",
      you: "Вы",
      agent: "Поддержка",
      bot: "Ассистент",
      typingNamed: "{name} печатает…",
      typing: "Печатает…",
      joined: "{name} теперь в чате",
      queued: "Ожидаем сотрудника…",
      queuePlace: "Вы {n}-й в очереди",
      queueWait: "около {m} мин",
      queueSoon: "меньше минуты",
      queueNobody: "Сейчас все сотрудники заняты. Оставайтесь здесь: ваши сообщения сохранены, мы ответим по очереди.",
      botBack: "Вам отвечает наш ассистент",
      reopened: "Разговор возобновлён",
      resolved: "Вопрос решён",
      sending: "Отправка…",
      notSent: "Не отправлено",
      tooLong: "Слишком длинное сообщение: не более {max} символов",
      empty: "Сообщение пустое",
      failed: "Не удалось отправить сообщение",
      edit: "Изменить",
      count: "{n} / {max} символов",
      seeOriginal: "Показать оригинал",
      seeTranslation: "Показать перевод",
      csatAsk: "Как мы справились?",
      csatScore: "{n} из 5",
      csatComment: "Хотите что-то добавить? (необязательно)",
      csatSend: "Отправить",
      csatThanks: "Спасибо за отзыв!",
      csatFailed: "Не удалось отправить оценку.",
      csatPick: "Сначала выберите оценку",
      couponCopy: "Скопировать код",
      couponCopied: "Скопировано",
      couponExpires: "Действует до {date}",
      dismiss: "Закрыть",
    },
  };
  const RTL_LANGUAGES = new Set(["ar"]);

  /** data-lang, else the browser's language, else English; only the primary subtag counts. */
  function pickLanguage() {
    for (const tag of [script.dataset.lang, navigator.language]) {
      const base = String(tag || "").toLowerCase().split(/[-_]/)[0];
      if (Object.prototype.hasOwnProperty.call(STRINGS, base)) return base;
    }
    return "en";
  }

  const LANG = pickLanguage();

  function t(key, args) {
    return tIn(LANG, key, args);
  }

  /** A text in another of the ten languages (the rating question speaks the shopper's). */
  function tIn(lang, key, args) {
    const table = STRINGS[lang] || STRINGS[LANG];
    const template = table[key] || STRINGS.en[key];
    return template.replace(/\{(\w+)\}/g, (_, name) =>
      args && args[name] != null ? String(args[name]) : "",
    );
  }

  /** The language of the server's rating question if the widget speaks it, else its own. */
  function csatLanguage(tag) {
    const base = String(tag || "").toLowerCase().split(/[-_]/)[0];
    return Object.prototype.hasOwnProperty.call(STRINGS, base) ? base : LANG;
  }

  // ---- local storage (may be missing or throw: Safari private mode, blocked storage) ---

  const storage = {
    key: (name) => `portside:${STORE_KEY}:${name}`,
    read(name) {
      try {
        const raw = window.localStorage.getItem(this.key(name));
        return raw === null ? null : JSON.parse(raw);
      } catch {
        return null;
      }
    },
    write(name, value) {
      try {
        window.localStorage.setItem(this.key(name), JSON.stringify(value));
        return true;
      } catch {
        return false;
      }
    },
    remove(name) {
      try {
        window.localStorage.removeItem(this.key(name));
      } catch {
        // nothing stored, nothing to remove
      }
    },
  };

  // ---- small helpers -----------------------------------------------------------------

  /** An element with attributes and children; strings become text nodes, never HTML. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  /** Characters as the server counts them (code points), not UTF-16 units. */
  function codePoints(text) {
    return Array.from(text).length;
  }

  function newClientId() {
    const cryptoApi = window.crypto;
    // randomUUID needs a secure context; a store served over plain http gets hex instead.
    if (cryptoApi && typeof cryptoApi.randomUUID === "function") {
      return `w-${cryptoApi.randomUUID()}`;
    }
    const bytes = new Uint8Array(16);
    if (cryptoApi && cryptoApi.getRandomValues) cryptoApi.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
    return `w-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  function isSeq(value) {
    return Number.isInteger(value) && value >= 0;
  }

  function timeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
    } catch {
      return null;
    }
  }

  /** The WebSocket endpoint on the server this script came from; wss when it came over https. */
  function socketUrl() {
    const src = new URL(script.src, window.location.href);
    const scheme = src.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${src.host}/ws/widget?store=${encodeURIComponent(STORE_KEY)}`;
  }

  // ---- state -------------------------------------------------------------------------

  const state = {
    token: null, // the visitor token: who this shopper is, across page loads
    conversationId: null, // the conversation on screen (the visitor's latest)
    status: null, // its status: "bot", "queued", "assigned", "resolved", or null if none
    queue: null, // while queued: {position, waitS} (waitS null: nobody can answer now)
    highest: new Map(), // conversation id -> highest seq applied
    product: null,
    open: false,
    unread: 0,
    maxChars: DEFAULT_MAX_CHARS,
    voiceS: 0, // the store's longest voice note in seconds; 0: it takes none
    heartbeatMs: DEFAULT_HEARTBEAT_S * 1000,
    connection: "connecting", // "connecting" | "connected" | "offline"
    everConnected: false,
    fatal: false, // closed 4403/4404: this page may not chat, retrying will not help
  };

  function normaliseProduct(slug) {
    return typeof slug === "string" && slug.trim() ? slug.trim() : null;
  }
  state.product = normaliseProduct(script.dataset.product);

  function highestFor(conversationId) {
    return state.highest.get(conversationId) || 0;
  }

  // ---- the user interface ------------------------------------------------------------

  const CSS = `
:host { all: initial; }
.root {
  --accent: var(--portside-accent, #1d4ed8);
  --accent-text: var(--portside-accent-text, #ffffff);
  --text: #1f2328;
  --muted: #57606a;
  --surface: #ffffff;
  --bubble: #eef1f4;
  --line: #d0d7de;
  --danger: #b3261e;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue",
    Arial, "PingFang SC", "Hiragino Sans", "Microsoft YaHei", sans-serif;
  color: var(--text);
}
[hidden] { display: none !important; }
button, textarea { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus { outline: none; }
:focus-visible {
  outline: 3px solid #111111;
  outline-offset: 2px;
  box-shadow: 0 0 0 2px #ffffff;
}
.sr-only {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  width: 56px; height: 56px; border-radius: 50%; border: 2px solid transparent;
  background: var(--accent); color: var(--accent-text);
  display: grid; place-items: center;
  box-shadow: 0 4px 14px rgba(0, 0, 0, 0.25);
  transition: transform 0.15s ease-out;
}
.launcher:hover { transform: scale(1.05); }
.launcher svg { width: 28px; height: 28px; fill: currentColor; }
.attach svg { width: 24px; height: 24px; fill: currentColor; vertical-align: middle; }
.badge {
  position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; padding: 0 5px;
  box-sizing: border-box; border-radius: 10px; border: 2px solid #ffffff;
  background: #d1242f; color: #ffffff; font-size: 11px; font-weight: 700; line-height: 16px;
  text-align: center;
}
.panel {
  position: fixed; right: 20px; bottom: 88px; z-index: 2147483001;
  width: 370px; max-width: calc(100vw - 40px);
  height: 580px; max-height: calc(100vh - 108px);
  display: flex; flex-direction: column; box-sizing: border-box;
  background: var(--surface); border: 1px solid var(--line); border-radius: 14px;
  box-shadow: 0 12px 40px rgba(0, 0, 0, 0.22); overflow: hidden;
  animation: portside-in 0.18s ease-out;
}
@keyframes portside-in { from { opacity: 0; transform: translateY(8px); } }
.header {
  display: flex; align-items: center; gap: 8px; padding: 8px 8px 8px 16px;
  background: var(--accent); color: var(--accent-text);
}
.panel[dir="rtl"] .header { padding: 8px 16px 8px 8px; }
.title {
  flex: 1; margin: 0; font-size: 16px; font-weight: 600;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
.close {
  width: 44px; height: 44px; border: 0; border-radius: 8px; background: transparent;
  color: inherit; font-size: 26px; line-height: 1;
}
.close:hover { background: rgba(255, 255, 255, 0.15); }
.person {
  min-height: 32px; padding: 4px 10px; border: 1px solid rgba(255, 255, 255, 0.6);
  border-radius: 16px; background: transparent; color: inherit; font-size: 13px;
}
.person:hover { background: rgba(255, 255, 255, 0.15); }
.status {
  margin: 0; padding: 6px 16px; font-size: 13px;
  background: #fff8c5; color: #4d3d00; border-bottom: 1px solid #eedc82;
}
.queue {
  margin: 0; padding: 6px 16px; font-size: 13px;
  background: #ddf4ff; color: #0a3069; border-bottom: 1px solid #b6e3ff;
}
.status[data-state="offline"] { background: #ffebe9; color: #82071e; border-color: #ffc1c0; }
.messages {
  flex: 1; overflow-y: auto; overscroll-behavior: contain;
  display: flex; flex-direction: column; gap: 8px; padding: 12px;
}
.message {
  max-width: 85%; box-sizing: border-box; padding: 8px 12px; border-radius: 14px;
  border: 1px solid transparent; background: var(--bubble); align-self: flex-start;
}
.message[data-author="visitor"] {
  align-self: flex-end; background: var(--accent); color: var(--accent-text);
}
.message[data-author="visitor"][data-state="pending"] { opacity: 0.8; }
.message[data-author="visitor"][data-state="failed"] {
  background: var(--surface); color: var(--text); border-color: var(--danger);
}
.message[data-author="system"] {
  align-self: center; max-width: 95%; padding: 2px 8px; background: transparent;
  color: var(--muted); font-size: 13px; text-align: center;
}
.name { display: block; font-size: 12px; font-weight: 600; color: var(--muted); }
.text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.meta { display: block; margin-top: 2px; font-size: 11px; opacity: 0.85; }
.message[data-state="failed"] .meta { color: var(--danger); opacity: 1; }
.edit {
  margin-inline-start: 6px; padding: 0 4px; border: 0; background: transparent;
  color: inherit; font-size: 12px; text-decoration: underline;
}
.coupon {
  margin-top: 6px; padding: 8px 10px; border: 1px dashed var(--accent); border-radius: 8px;
  background: var(--surface); display: grid; gap: 4px;
}
.coupon-code { font: 600 16px/1.3 ui-monospace, SFMono-Regular, Menlo, monospace; letter-spacing: 0.04em; }
.coupon-note { font-size: 13px; color: var(--muted); }
.coupon-copy, .dismiss { justify-self: start; min-height: 32px; font-size: 13px; }
.dismiss { background: none; border: 0; color: var(--muted); text-decoration: underline; padding: 0; }
.csat {
  display: grid; gap: 8px; justify-items: center; margin: 4px 0; padding: 10px 12px;
  border: 1px solid var(--line); border-radius: 12px; background: var(--surface);
  color: var(--text); font-size: 14px;
}
.csat-ask { font-weight: 600; }
.csat-stars { display: flex; gap: 2px; margin: 0; font-size: 22px; color: #9a5b00; }
.star {
  width: 40px; height: 40px; padding: 0; border: 0; border-radius: 8px;
  background: transparent; color: #9a5b00; font-size: 26px; line-height: 1;
}
.star:hover, .star[aria-pressed="true"] { background: #fff4d6; }
.csat-comment { min-height: 0; font-size: 14px; }
.csat-send { min-height: 36px; }
.typing {
  margin: 0; padding: 0 16px 6px; font-size: 13px; color: var(--muted); font-style: italic;
}
.composer {
  display: grid; grid-template-columns: auto 1fr auto; gap: 8px; align-items: end;
  padding: 10px 12px calc(10px + env(safe-area-inset-bottom, 0px));
  border-top: 1px solid var(--line);
}
.input {
  box-sizing: border-box; width: 100%; min-height: 44px; max-height: 140px; resize: none;
  field-sizing: content; padding: 10px 12px; border: 1px solid #8c959f; border-radius: 10px;
  background: var(--surface); font-size: 16px; line-height: 1.4;
}
.input[aria-invalid="true"] { border-color: var(--danger); }
.send {
  min-height: 44px; padding: 0 16px; border: 2px solid transparent; border-radius: 10px;
  background: var(--accent); color: var(--accent-text); font-weight: 600;
}
.attach { min-height: 44px; border: 0; background: none; font-size: 24px; }
.composer.voice { grid-template-columns: auto 1fr auto auto; }
.send:disabled, .input:disabled, .attach:disabled { opacity: 0.5; cursor: not-allowed; }
.hint { grid-column: 1 / -1; margin: 0; font-size: 12px; color: var(--muted); }
.hint:empty { display: none; }
.error { color: var(--danger); }
@media (max-width: 479.98px) {
  .panel {
    inset: 0; width: 100%; max-width: none; height: 100%; max-height: none;
    border: 0; border-radius: 0;
  }
}
@media (prefers-reduced-motion: reduce) {
  .panel { animation: none; }
  .launcher { transition: none; }
  .launcher:hover { transform: none; }
}
@media (forced-colors: active) {
  .launcher, .send, .message, .badge { border-color: CanvasText; }
}
`;

  let host = null;
  let ui = null;

  /** A 24 x 24 icon drawn by one SVG path, in the text colour. */
  function icon(d) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.append(path);
    return svg;
  }

  const chatIcon = () =>
    icon(
      "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4" +
        "A1.5 1.5 0 0 1 4 14.5z",
    );
  const micIcon = () =>
    icon("M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z");

  function buildUi() {
    const badge = el("span", {
      class: "badge",
      "data-testid": "badge",
      "aria-hidden": "true", // the launcher's label says how many
      hidden: true,
    });
    const launcher = el(
      "button",
      {
        type: "button",
        class: "launcher",
        "data-testid": "launcher",
        "aria-expanded": "false",
        "aria-controls": "portside-panel",
        "aria-label": t("open"),
      },
      [chatIcon(), badge],
    );
    const title = el("h2", { class: "title", "data-testid": "title" }, [t("title")]);
    const personButton = el(
      "button",
      { type: "button", class: "person", "data-testid": "person", hidden: true },
      [t("person")],
    );
    const closeButton = el(
      "button",
      { type: "button", class: "close", "data-testid": "close", "aria-label": t("close") },
      [el("span", { "aria-hidden": "true" }, ["×"])],
    );
    const status = el("p", {
      class: "status",
      "data-testid": "status",
      role: "status",
      "data-state": "connecting",
    });
    const messages = el("div", {
      class: "messages",
      "data-testid": "messages",
      role: "log",
      "aria-live": "polite",
      "aria-label": t("messages"),
      tabindex: "0", // so a keyboard can scroll the history
    });
    // The shopper's place in the queue and an honest wait, while a person is coming.
    const queue = el("p", { class: "queue", "data-testid": "queue", role: "status", hidden: true });
    const typing = el("p", { class: "typing", "data-testid": "typing", hidden: true });
    const input = el("textarea", {
      class: "input",
      "data-testid": "input",
      id: "portside-input",
      rows: "1",
      maxlength: String(DEFAULT_MAX_CHARS),
      "aria-label": t("input"),
      "aria-describedby": "portside-counter portside-error",
      placeholder: t("placeholder"),
      autocomplete: "off",
      enterkeyhint: "send",
    });
    const send = el("button", { type: "submit", class: "send", "data-testid": "send" }, [
      t("send"),
    ]);
    // The counter is not a live region (it would speak on every key press); errors are.
    const counter = el("p", {
      class: "hint",
      "data-testid": "counter",
      id: "portside-counter",
      hidden: true,
    });
    const error = el("p", {
      class: "hint error",
      "data-testid": "input-error",
      id: "portside-error",
      role: "alert",
    });
    const attach = el("button", { type: "button", class: "attach", "data-testid": "attach", "aria-label": t("attach") }, ["+"]);
    // Shown once `welcome` says the store takes voice notes (widget-voice.js records).
    const mic = el("button", { type: "button", class: "attach", "data-testid": "record", "aria-label": t("record"), hidden: true }, [micIcon()]);
    const form = el("form", { class: "composer", "data-testid": "composer", novalidate: true }, [
      attach,
      input,
      mic,
      send,
      counter,
      error,
    ]);
    const panel = el(
      "section",
      {
        class: "panel",
        "data-testid": "panel",
        id: "portside-panel",
        role: "dialog",
        "aria-label": t("title"),
        lang: LANG,
        dir: RTL_LANGUAGES.has(LANG) ? "rtl" : "ltr",
        hidden: true,
      },
      [
        el("header", { class: "header" }, [title, personButton, closeButton]),
        status,
        queue,
        messages,
        typing,
        form,
      ],
    );
    const root = el("div", { class: "root", lang: LANG }, [panel, launcher]);
    return {
      root,
      launcher,
      badge,
      panel,
      title,
      personButton,
      closeButton,
      status,
      queue,
      messages,
      typing,
      form,
      input,
      attach,
      mic,
      send,
      counter,
      error,
    };
  }

  function applyStyles(shadow) {
    try {
      // A constructable stylesheet is not blocked by the host page's style-src policy.
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
      return;
    } catch {
      // Older browsers: a <style> element, which needs style-src to allow it.
    }
    shadow.append(el("style", {}, [CSS]));
  }

  function setStoreName(name) {
    ui.title.textContent = name;
    ui.panel.setAttribute("aria-label", t("dialog", { store: name }));
  }

  function renderConnection() {
    const { status } = ui;
    status.dataset.state = state.connection;
    let text = "";
    if (state.fatal) text = t("unavailable");
    else if (state.connection === "offline" && navigator.onLine === false) text = t("offline");
    else if (state.connection !== "connected") {
      text = state.everConnected ? t("reconnecting") : t("connecting");
    }
    status.textContent = text;
    status.hidden = state.connection === "connected";
    ui.input.disabled = state.fatal;
    ui.send.disabled = state.fatal;
    renderPersonButton();
  }

  /** "Talk to a person" while the bot has the conversation (or there is none yet). */
  function renderPersonButton() {
    const withBot = state.status === null || state.status === "bot" || state.status === "resolved";
    ui.personButton.hidden = !(withBot && state.connection === "connected" && !state.fatal);
  }

  function setConnection(next) {
    state.connection = next;
    renderConnection();
  }

  function renderLauncher() {
    const { launcher, badge } = ui;
    launcher.setAttribute("aria-expanded", String(state.open));
    let label = t("open");
    if (state.open) label = t("close");
    else if (state.unread > 0) label = t("openUnread", { n: state.unread });
    launcher.setAttribute("aria-label", label);
    badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    badge.hidden = state.unread === 0;
  }

  /** Open or close the panel. `focus`: move focus (into the input, or back to the launcher). */
  function setOpen(open, focus) {
    state.open = open;
    ui.panel.hidden = !open;
    if (open) state.unread = 0;
    renderLauncher();
    storage.write("open", open);
    if (open) {
      scrollToEnd();
      if (focus) (ui.input.disabled ? ui.closeButton : ui.input).focus();
    } else if (focus) {
      ui.launcher.focus();
    }
  }

  /** A problem with what is in the text box, shown (and announced) under it; "" clears it. */
  function showError(text) {
    ui.error.textContent = text;
    ui.input.setAttribute("aria-invalid", String(Boolean(text)));
  }

  /** "n / max characters" once the text nears the limit; the error once it is over. */
  function updateCounter() {
    const length = codePoints(ui.input.value.trim());
    const max = state.maxChars;
    ui.counter.textContent = t("count", { n: length, max });
    ui.counter.hidden = length < max * COUNTER_FROM;
    showError(length > max ? t("tooLong", { max }) : "");
  }

  // ---- the transcript on screen ------------------------------------------------------
  //
  // A record is one line of the log: {conversationId, seq, author, name, text, clientId,
  // at, state, reason, system, el}. `items` keeps them in display order: those with a seq
  // first, by (conversation, seq), then the shopper's unconfirmed ones in the order typed.
  // Those unconfirmed ones (state "pending" or "failed") are the outbox.

  const items = [];
  const bySeq = new Map(); // "conversation:seq" -> record
  const byClientId = new Map(); // the shopper's messages, client_id -> record

  function seqKey(conversationId, seq) {
    return `${conversationId}:${seq}`;
  }

  function comesBefore(record, other) {
    if (other.seq === null) return true; // unconfirmed messages stay at the end
    if (record.conversationId !== other.conversationId) {
      return record.conversationId < other.conversationId;
    }
    return record.seq < other.seq;
  }

  function nearBottom() {
    const box = ui.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToEnd() {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  function systemText(system) {
    if (system.key === "joined") return t("joined", { name: system.name || t("agent") });
    return t(system.key);
  }

  function stateLine(record) {
    if (record.state === "pending") return t("sending");
    if (record.state === "failed") {
      let reason = t("failed");
      if (record.reason === "message_too_long") reason = t("tooLong", { max: state.maxChars });
      else if (record.reason === "message_empty") reason = t("empty");
      return `${t("notSent")}: ${reason}`;
    }
    return "";
  }

  function render(record) {
    const node = record.el || el("div", { class: "message", "data-testid": "message" });
    record.el = node;
    node.dataset.author = record.author;
    if (record.seq === null) delete node.dataset.seq;
    else node.dataset.seq = String(record.seq);
    if (record.author === "visitor") node.dataset.state = record.state;
    else delete node.dataset.state;

    if (record.csat) {
      renderCsat(record);
      return;
    }
    if (record.system) {
      node.replaceChildren(el("p", { class: "text" }, [systemText(record.system)]));
      return;
    }
    const parts = [];
    if (record.author === "agent" || record.author === "bot") {
      const name = record.name || t(record.author === "bot" ? "bot" : "agent");
      parts.push(el("span", { class: "name" }, [name]));
    } else if (record.author === "visitor") {
      parts.push(el("span", { class: "sr-only" }, [`${t("you")}: `]));
    }
    if (record.text) parts.push(el("p", { class: "text" }, [record.showOriginal ? record.original : record.text]));
    if (record.files) parts.push(files(record.files));
    if (record.proactive && !record.proactive.closed) parts.push(...proactiveParts(record));
    if (record.original) {
      // An agent's reply translated for the shopper: what they wrote, on request.
      const flip = el("button", { type: "button", class: "edit", "data-testid": "see-original" }, [
        t(record.showOriginal ? "seeTranslation" : "seeOriginal"),
      ]);
      flip.addEventListener("click", () => {
        record.showOriginal = !record.showOriginal;
        render(record);
      });
      parts.push(flip);
    }
    const meta = el("span", { class: "meta" }, [stateLine(record)]);
    if (record.state === "failed") {
      const edit = el("button", { type: "button", class: "edit" }, [t("edit")]);
      edit.addEventListener("click", () => editFailed(record));
      meta.append(edit);
    }
    if (meta.textContent) parts.push(meta);
    node.replaceChildren(...parts);
  }

  // ---- attachments: drawn and sent by widget-media.js, loaded when needed

  const list = (value) => (Array.isArray(value) && value.length ? value : null);
  let mediaLoad = null;

  function media() {
    mediaLoad ||= new Promise((done, fail) => {
      const tag = el("script", { src: new URL("widget-media.js", script.src).href });
      const base = new URL(script.src).origin;
      const api = { ui, lang: LANG, key: STORE_KEY, base, token: () => state.token, submit, t };
      tag.onload = () => done(window.PortsideMedia(api));
      tag.onerror = () => fail((mediaLoad = null));
      document.head.append(tag);
    });
    return mediaLoad;
  }

  function files(attachments) {
    const box = el("div");
    media().then((m) => m.show(box, attachments));
    return box;
  }

  // ---- proactive messages (a store's trigger rule spoke first) -------------------------

  /** The `proactive` part of a bot's message: {fireId, coupon: {code, description, expiresAt}}. */
  function proactiveOf(data) {
    const p = data.proactive;
    if (!p || typeof p !== "object" || !Number.isInteger(p.fire_id)) return null;
    const c = p.coupon && typeof p.coupon === "object" ? p.coupon : null;
    const coupon =
      c && typeof c.code === "string" && c.code
        ? {
            code: c.code,
            description: typeof c.description === "string" ? c.description : null,
            expiresAt: typeof c.expires_at === "string" ? c.expires_at : null,
          }
        : null;
    return { fireId: p.fire_id, coupon, closed: false };
  }

  /** The coupon card (code, what it gives, until when, a copy button) and the close control. */
  function proactiveParts(record) {
    const parts = [];
    const coupon = record.proactive.coupon;
    if (coupon) {
      const card = el("div", { class: "coupon", "data-testid": "coupon" }, [
        el("span", { class: "coupon-code", "data-testid": "coupon-code" }, [coupon.code]),
      ]);
      if (coupon.description) card.append(el("span", { class: "coupon-note" }, [coupon.description]));
      if (coupon.expiresAt) {
        const date = new Date(coupon.expiresAt);
        const shown = Number.isNaN(date.getTime()) ? coupon.expiresAt : date.toLocaleDateString(LANG);
        card.append(el("span", { class: "coupon-note" }, [t("couponExpires", { date: shown })]));
      }
      const copy = el("button", { type: "button", class: "coupon-copy", "data-testid": "coupon-copy" }, [
        t("couponCopy"),
      ]);
      copy.addEventListener("click", () => {
        const done = () => {
          copy.textContent = t("couponCopied");
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(coupon.code).then(done, () => {});
        }
      });
      card.append(copy);
      parts.push(card);
    }
    const dismiss = el("button", { type: "button", class: "dismiss", "data-testid": "proactive-close" }, [
      t("dismiss"),
    ]);
    dismiss.addEventListener("click", () => {
      // Said to the server (the store's rules stay quiet a while), then put away.
      record.proactive.closed = true;
      track("proactive_closed", { fire_id: record.proactive.fireId });
      render(record);
      if (state.open) setOpen(false, true);
    });
    parts.push(dismiss);
    return parts;
  }

  /** Put a record (new or changed) where it belongs in the log. */
  function place(record) {
    const stick = nearBottom();
    const current = items.indexOf(record);
    if (current >= 0) items.splice(current, 1);
    let at = items.length;
    if (record.seq !== null) {
      const later = items.findIndex((other) => comesBefore(record, other));
      if (later >= 0) at = later;
    }
    items.splice(at, 0, record);
    const next = items[at + 1];
    ui.messages.insertBefore(record.el, next ? next.el : null);
    if (record.seq !== null) bySeq.set(seqKey(record.conversationId, record.seq), record);
    if (record.clientId) byClientId.set(record.clientId, record);
    // A long-lived tab should not grow without bound: the oldest lines leave the screen.
    while (items.length > RENDERED_KEPT && items[0].seq !== null) forget(items[0]);
    if (stick) scrollToEnd();
  }

  /** Add a line, or update the one already shown for the same event (server truth wins). */
  function show(fields) {
    let record = fields.seq !== null ? bySeq.get(seqKey(fields.conversationId, fields.seq)) : null;
    if (record) Object.assign(record, fields);
    else {
      record = {
        clientId: null,
        name: null,
        state: null,
        reason: null,
        system: null,
        csat: null,
        ...fields,
      };
    }
    render(record);
    place(record);
    return record;
  }

  function forget(record) {
    const index = items.indexOf(record);
    if (index >= 0) items.splice(index, 1);
    if (record.el) record.el.remove();
    if (record.seq !== null) bySeq.delete(seqKey(record.conversationId, record.seq));
    if (record.clientId && byClientId.get(record.clientId) === record) {
      byClientId.delete(record.clientId);
    }
  }

  /** Drop every confirmed line (the server is about to replay the truth); keep the outbox. */
  function forgetConfirmed() {
    for (const record of items.filter((r) => r.seq !== null)) forget(record);
  }

  function outbox() {
    return items.filter((r) => r.state === "pending" || r.state === "failed");
  }

  /** A refused message goes back into the text box, so nothing typed is lost. */
  function editFailed(record) {
    forget(record);
    const current = ui.input.value;
    ui.input.value = current.trim() ? `${current}\n${record.text}` : record.text;
    updateCounter();
    ui.input.focus();
    scheduleSave();
  }

  // ---- what survives a reload --------------------------------------------------------

  let saveTimer = 0;

  function scheduleSave() {
    if (!saveTimer) saveTimer = setTimeout(saveNow, SAVE_DELAY_MS);
  }

  function saveNow() {
    clearTimeout(saveTimer);
    saveTimer = 0;
    const pending = outbox().map((r) => ({
      client_id: r.clientId,
      text: r.text,
      files: r.files,
      at: r.at,
      state: r.state,
      reason: r.reason,
    }));
    if (pending.length) storage.write("outbox", pending);
    else storage.remove("outbox");

    const id = state.conversationId;
    if (id === null) {
      storage.remove("conversation");
      storage.remove("transcript");
      return;
    }
    const transcript = items
      .filter((r) => r.seq !== null && r.conversationId === id)
      .slice(-TRANSCRIPT_KEPT)
      .map((r) => ({
        conversation_id: r.conversationId,
        seq: r.seq,
        author: r.author,
        name: r.name,
        text: r.text,
        files: r.files,
        client_id: r.clientId,
        at: r.at,
        system: r.system,
        original: r.original || null,
        csat: r.csat
          ? {
              resolved_seq: r.csat.resolvedSeq,
              lang: r.csat.lang,
              rated: r.csat.rated,
              score: r.csat.score,
            }
          : null,
      }));
    // The resume point is only worth keeping with the messages it resumes after: if the
    // transcript could not be written, the next load asks for the whole conversation.
    const kept = storage.write("transcript", transcript);
    storage.write("conversation", { id, last_seq: kept ? highestFor(id) : 0 });
  }

  function validCachedLine(line, conversationId) {
    return (
      line &&
      line.conversation_id === conversationId &&
      isSeq(line.seq) &&
      AUTHORS.has(line.author) &&
      (typeof line.text === "string" || (line.system && typeof line.system.key === "string"))
    );
  }

  /** Paint what the last page load left, before the server has said anything. */
  function restore() {
    const token = storage.read("token");
    if (typeof token === "string" && token) state.token = token;

    const conversation = storage.read("conversation");
    if (conversation && Number.isInteger(conversation.id)) {
      const id = conversation.id;
      state.conversationId = id;
      const transcript = storage.read("transcript");
      if (Array.isArray(transcript) && isSeq(conversation.last_seq)) {
        state.highest.set(id, conversation.last_seq);
        for (const line of transcript) {
          if (!validCachedLine(line, id)) continue;
          const system = line.system && SYSTEM_LINES.has(line.system.key) ? line.system : null;
          show({
            conversationId: id,
            seq: line.seq,
            author: line.author,
            name: typeof line.name === "string" ? line.name : null,
            text: typeof line.text === "string" ? line.text : "",
            clientId: typeof line.client_id === "string" ? line.client_id : null,
            at: typeof line.at === "string" ? line.at : null,
            state: line.author === "visitor" ? "sent" : null,
            system: system ? { key: system.key, name: String(system.name || "") } : null,
            original: typeof line.original === "string" ? line.original : null,
            files: list(line.files),
            csat: cachedCsat(line.csat),
          });
        }
      }
    }

    const saved = storage.read("outbox");
    for (const entry of Array.isArray(saved) ? saved : []) {
      if (!entry || typeof entry.text !== "string") continue;
      if (!CLIENT_ID.test(String(entry.client_id))) continue;
      if (byClientId.has(entry.client_id)) continue; // already confirmed before the reload
      show({
        conversationId: null,
        seq: null,
        author: "visitor",
        text: entry.text,
        files: list(entry.files),
        clientId: entry.client_id,
        at: typeof entry.at === "string" ? entry.at : new Date().toISOString(),
        state: entry.state === "failed" ? "failed" : "pending",
        reason: typeof entry.reason === "string" ? entry.reason : null,
      });
    }
    state.open = storage.read("open") === true;
  }

  // ---- events from the conversation's log --------------------------------------------

  /**
   * Follow the conversation an event or ack belongs to. A visitor has one latest
   * conversation; a newer one (a higher id) replaces the one on screen, an older one is
   * not shown. Returns whether the caller should go on.
   */
  function follow(conversationId) {
    const current = state.conversationId;
    if (current === conversationId) return true;
    if (current !== null && conversationId < current) return false;
    state.conversationId = conversationId;
    scheduleSave();
    return true;
  }

  function applyEvent(event) {
    if (!event || typeof event !== "object") return;
    const conversationId = event.conversation_id;
    const seq = event.seq;
    if (!Number.isInteger(conversationId) || !isSeq(seq)) return;
    if (!follow(conversationId)) return;
    // Replays overlap live delivery: apply each seq once. The seq may skip numbers (events
    // the shopper never sees, such as internal notes); that is normal.
    if (seq <= highestFor(conversationId)) return;
    state.highest.set(conversationId, seq);
    if (event.type === "message.created") applyMessage(event);
    else if (event.type === "conversation.status_changed") applyStatusChange(event);
    else if (event.type === "csat.requested") applyCsatRequest(event);
    else if (event.type === "csat.rated") applyCsatRated(event);
    else if (event.type === "attachment.transcript_shared") applyTranscript(event.data || {});
    else if (event.type === "conversation.created" && typeof event.data?.status === "string") {
      state.status = event.data.status; // shows nothing but whether a person was asked for
      renderPersonButton();
    }
    // Unknown types are a newer server's, ignored.
    scheduleSave();
  }

  /** What an agent wrote, when the shopper reads a translation of it. */
  function originalOf(data) {
    const original = data.original && typeof data.original === "object" ? data.original : {};
    return typeof original.text === "string" && original.text ? original.text : null;
  }

  function applyMessage(event) {
    const actor = event.actor && typeof event.actor === "object" ? event.actor : {};
    const data = event.data && typeof event.data === "object" ? event.data : {};
    const author = AUTHORS.has(actor.type) ? actor.type : "system";
    const text = typeof data.text === "string" ? data.text : "";
    const clientId = typeof data.client_id === "string" ? data.client_id : null;
    const at = typeof event.at === "string" ? event.at : null;

    if (author === "visitor" && clientId && byClientId.has(clientId)) {
      // The echo of a message already on screen: confirm that bubble, do not add another.
      const mine = byClientId.get(clientId);
      if (mine.seq !== null) bySeq.delete(seqKey(mine.conversationId, mine.seq));
      Object.assign(mine, {
        conversationId: event.conversation_id,
        seq: event.seq,
        text: text || mine.text,
        at: at || mine.at,
        state: "sent",
        reason: null,
      });
      render(mine);
      place(mine);
      return;
    }
    if (author !== "visitor") hideTyping(); // they answered: they are no longer typing
    show({
      conversationId: event.conversation_id,
      seq: event.seq,
      author,
      name: typeof actor.name === "string" && actor.name ? actor.name : null,
      text,
      original: originalOf(data),
      files: list(data.attachments),
      clientId: author === "visitor" ? clientId : null,
      at,
      state: author === "visitor" ? "sent" : null,
      proactive: author === "bot" ? proactiveOf(data) : null,
    });
    if (author === "bot" && data.proactive && data.proactive.open === true && !state.open) {
      setOpen(true, false);
    }
    if (!state.open && (author === "agent" || author === "bot")) {
      state.unread += 1;
      renderLauncher();
    }
  }

  /** A transcript shared with the shopper: kept with its voice note, which
   * widget-media.js draws with it. */
  function applyTranscript(data) {
    for (const r of items) {
      const file = (r.files || []).find((f) => f && f.id === data.attachment_id);
      if (file && typeof data.text === "string") {
        file.transcript = data.text;
        render(r);
      }
    }
  }

  /** The server's word on the shopper's place in the queue (sent when it changes). */
  function onQueue(frame) {
    if (frame.conversation_id !== state.conversationId || !isSeq(frame.position)) return;
    const waitS = Number.isFinite(frame.wait_s) ? frame.wait_s : null;
    state.queue = { position: frame.position, waitS };
    renderQueue();
  }

  function renderQueue() {
    const q = state.queue;
    const shown = state.status === "queued" && q !== null;
    ui.queue.hidden = !shown;
    if (!shown) return;
    if (q.waitS === null) {
      ui.queue.textContent = t("queueNobody");
      return;
    }
    const wait = q.waitS < 60 ? t("queueSoon") : t("queueWait", { m: Math.round(q.waitS / 60) });
    ui.queue.textContent = `${t("queuePlace", { n: q.position })} · ${wait}`;
  }

  function applyStatusChange(event) {
    const data = event.data && typeof event.data === "object" ? event.data : {};
    const assignee = data.assignee && typeof data.assignee === "object" ? data.assignee : null;
    const name = assignee && typeof assignee.name === "string" ? assignee.name : "";
    if (typeof data.to === "string" && event.conversation_id === state.conversationId) {
      state.status = data.to;
      if (data.to !== "queued") state.queue = null;
      renderPersonButton();
      renderQueue();
    }
    let key = null;
    if (data.to === "assigned") key = "joined";
    else if (data.to === "queued") key = "queued";
    else if (data.to === "resolved") key = "resolved";
    else if (data.to === "bot") key = data.from === "resolved" ? "reopened" : "botBack";
    if (!key) return;
    show({
      conversationId: event.conversation_id,
      seq: event.seq,
      author: "system",
      text: "",
      at: typeof event.at === "string" ? event.at : null,
      system: { key, name },
    });
  }


  // ---- the rating asked when a conversation is resolved --------------------------------
  //
  // A `csat.requested` event becomes a card in the log: five stars, an optional comment
  // and a send button, in the language the server says the shopper speaks (when the
  // widget has it). The answer goes out as `csat.submit` (ref "csat-..."); its
  // `csat.rated` event turns the card into thanks, on every tab of the shopper.

  const CSAT_REF = "csat-";

  function cachedCsat(saved) {
    if (!saved || typeof saved !== "object" || !isSeq(saved.resolved_seq)) return null;
    return {
      resolvedSeq: saved.resolved_seq,
      lang: csatLanguage(saved.lang),
      rated: saved.rated === true,
      score: CSAT_SCORES.includes(saved.score) ? saved.score : null,
      comment: "",
      sending: false,
      error: null,
    };
  }

  function applyCsatRequest(event) {
    const data = event.data && typeof event.data === "object" ? event.data : {};
    if (!isSeq(data.resolved_seq)) return;
    show({
      conversationId: event.conversation_id,
      seq: event.seq,
      author: "system",
      text: "",
      at: typeof event.at === "string" ? event.at : null,
      csat: {
        resolvedSeq: data.resolved_seq,
        lang: csatLanguage(data.language),
        rated: false,
        score: null,
        comment: "",
        sending: false,
        error: null,
      },
    });
    if (!state.open) {
      state.unread += 1;
      renderLauncher();
    }
  }

  function csatCard(conversationId, resolvedSeq) {
    return items.find(
      (r) => r.csat && r.conversationId === conversationId && r.csat.resolvedSeq === resolvedSeq,
    );
  }

  function applyCsatRated(event) {
    const data = event.data && typeof event.data === "object" ? event.data : {};
    const card = csatCard(event.conversation_id, data.resolved_seq);
    if (card) {
      Object.assign(card.csat, { rated: true, sending: false, error: null });
      if (CSAT_SCORES.includes(data.score)) card.csat.score = data.score;
      render(card);
      return;
    }
    // The question has left the screen (a long conversation): thanks on a line of its own.
    show({
      conversationId: event.conversation_id,
      seq: event.seq,
      author: "system",
      text: "",
      at: typeof event.at === "string" ? event.at : null,
      system: { key: "csatThanks", name: "" },
    });
  }

  function renderCsat(record) {
    const csat = record.csat;
    const say = (key, args) => tIn(csat.lang, key, args);
    const card = el("div", {
      class: "csat",
      "data-testid": "csat",
      "data-state": csat.rated ? "rated" : "asked",
      lang: csat.lang,
      dir: RTL_LANGUAGES.has(csat.lang) ? "rtl" : "ltr",
    });
    if (csat.rated) {
      const stars = csat.score ? "★".repeat(csat.score) + "☆".repeat(5 - csat.score) : "";
      card.append(
        el("p", { class: "csat-stars", "aria-hidden": "true" }, [stars]),
        el("p", { class: "text", "data-testid": "csat-thanks" }, [say("csatThanks")]),
      );
      record.el.replaceChildren(card);
      return;
    }
    const stars = el("div", { class: "csat-stars", role: "group", "aria-label": say("csatAsk") });
    for (const score of CSAT_SCORES) {
      const star = el(
        "button",
        {
          type: "button",
          class: "star",
          "data-testid": "csat-star",
          "data-score": String(score),
          "aria-label": say("csatScore", { n: score }),
          "aria-pressed": String(csat.score === score),
          disabled: csat.sending,
        },
        [csat.score !== null && score <= csat.score ? "★" : "☆"],
      );
      star.addEventListener("click", () => {
        csat.score = score;
        csat.error = null;
        render(record);
        record.el.querySelector(`[data-score="${score}"]`)?.focus();
      });
      stars.append(star);
    }
    const comment = el("textarea", {
      class: "input csat-comment",
      "data-testid": "csat-comment",
      rows: "2",
      maxlength: String(CSAT_MAX_COMMENT),
      placeholder: say("csatComment"),
      "aria-label": say("csatComment"),
      disabled: csat.sending,
    });
    comment.value = csat.comment;
    comment.addEventListener("input", () => {
      csat.comment = comment.value;
    });
    const sendButton = el(
      "button",
      {
        type: "button",
        class: "send csat-send",
        "data-testid": "csat-send",
        disabled: csat.sending,
      },
      [say("csatSend")],
    );
    sendButton.addEventListener("click", () => submitCsat(record));
    card.append(el("p", { class: "text csat-ask" }, [say("csatAsk")]), stars, comment, sendButton);
    if (csat.error) {
      const error = { class: "hint error", role: "alert", "data-testid": "csat-error" };
      card.append(el("p", error, [csat.error]));
    }
    record.el.replaceChildren(card);
  }

  function submitCsat(record) {
    const csat = record.csat;
    if (csat.score === null) {
      csat.error = tIn(csat.lang, "csatPick");
      render(record);
      return;
    }
    const comment = csat.comment.trim();
    const sent = send({
      type: "csat.submit",
      ref: `${CSAT_REF}${record.conversationId}-${csat.resolvedSeq}`,
      conversation_id: record.conversationId,
      resolved_seq: csat.resolvedSeq,
      score: csat.score,
      comment: comment || null,
    });
    csat.sending = sent;
    csat.error = sent ? null : tIn(csat.lang, "csatFailed");
    render(record);
  }

  function onCsatError(frame) {
    const match = /^csat-(\d+)-(\d+)$/.exec(frame.ref);
    const card = match ? csatCard(Number(match[1]), Number(match[2])) : null;
    if (!card) return;
    card.csat.sending = false;
    if (frame.code === "already_rated") card.csat.rated = true; // from another tab
    else card.csat.error = tIn(card.csat.lang, "csatFailed");
    render(card);
    scheduleSave();
  }

  // ---- the other side typing ---------------------------------------------------------

  let typingHideTimer = 0;

  function onTyping(frame) {
    const actor = frame.actor && typeof frame.actor === "object" ? frame.actor : null;
    if (!actor || actor.type === "visitor") return;
    if (state.conversationId !== null && frame.conversation_id !== state.conversationId) return;
    if (frame.state !== true) {
      hideTyping();
      return;
    }
    let name = typeof actor.name === "string" ? actor.name : "";
    if (!name && actor.type === "bot") name = t("bot");
    ui.typing.textContent = name ? t("typingNamed", { name }) : t("typing");
    ui.typing.hidden = false;
    clearTimeout(typingHideTimer);
    typingHideTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() {
    clearTimeout(typingHideTimer);
    ui.typing.hidden = true;
    ui.typing.textContent = "";
  }

  // ---- the shopper typing and sending ------------------------------------------------

  const typingOut = { active: false, sentAt: 0, idleTimer: 0 };

  function typingPulse() {
    if (!ui.input.value.trim()) {
      stopTyping();
      return;
    }
    const now = Date.now();
    if (now - typingOut.sentAt >= TYPING_EVERY_MS && send({ type: "typing", state: true })) {
      typingOut.active = true;
      typingOut.sentAt = now;
    }
    clearTimeout(typingOut.idleTimer);
    typingOut.idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(typingOut.idleTimer);
    if (!typingOut.active) return;
    typingOut.active = false;
    typingOut.sentAt = 0;
    send({ type: "typing", state: false });
  }

  function submit(files) {
    const text = ui.input.value.trim();
    if (!text && !files) {
      ui.input.focus();
      return;
    }
    if (codePoints(text) > state.maxChars) {
      showError(t("tooLong", { max: state.maxChars }));
      ui.input.focus();
      return;
    }
    stopTyping();
    show({
      conversationId: null,
      seq: null,
      author: "visitor",
      text,
      files,
      clientId: newClientId(),
      at: new Date().toISOString(),
      state: "pending",
    });
    scrollToEnd(); // your own message is always brought into view
    ui.input.value = "";
    updateCounter();
    ui.input.focus();
    flushOutbox();
    scheduleSave();
  }

  // The outbox goes out in the order typed. `inFlight` holds what this socket has sent and
  // not had an answer for; a new socket starts with it empty and sends everything again.
  const inFlight = new Set();
  let outboxPausedUntil = 0;
  let outboxTimer = 0;

  function flushOutbox() {
    if (!connected()) return;
    const wait = outboxPausedUntil - Date.now();
    if (wait > 0) {
      clearTimeout(outboxTimer);
      outboxTimer = setTimeout(flushOutbox, wait);
      return;
    }
    for (const record of outbox()) {
      if (record.state !== "pending" || inFlight.has(record.clientId)) continue;
      // No conversation_id: the server uses the visitor's latest conversation, or opens one.
      const { clientId, text, files } = record;
      const attachments = files && files.map((f) => f && f.id);
      if (!send({ type: "message.send", ref: clientId, client_id: clientId, text, attachments })) return;
      inFlight.add(record.clientId);
    }
  }

  function onAck(frame) {
    const clientId = String(frame.client_id || frame.ref || "");
    inFlight.delete(clientId);
    const conversationId = frame.conversation_id;
    // The first message may have opened the conversation: this is where we learn its id.
    if (Number.isInteger(conversationId)) follow(conversationId);
    const record = byClientId.get(clientId);
    if (!record) return;
    // A duplicate ack (a resend after a reconnect) is a success like any other.
    record.state = "sent";
    record.reason = null;
    if (record.seq === null && Number.isInteger(conversationId) && isSeq(frame.seq)) {
      record.conversationId = conversationId;
      record.seq = frame.seq;
    }
    render(record);
    place(record);
    scheduleSave();
  }

  function onError(frame) {
    if (typeof frame.ref === "string" && frame.ref.startsWith(CSAT_REF)) {
      onCsatError(frame);
      return;
    }
    if (typeof frame.ref === "string" && frame.ref.startsWith(TRACK_REF)) {
      onTrackError(frame);
      return;
    }
    if (frame.ref === "identify") {
      onIdentified(frame);
      return;
    }
    // Errors without a message of ours (token_invalid, token_expired, ...) need nothing:
    // the `welcome` that follows already carries a fresh token.
    const record = frame.ref == null ? null : byClientId.get(String(frame.ref));
    if (!record || record.state !== "pending") return;
    inFlight.delete(record.clientId);
    if (frame.code === "rate_limited" || frame.code === "unavailable") {
      // Nothing was stored (too fast, or the database restarting): keep it pending and
      // send it again, same client_id, a bit later.
      const asked = Number(frame.retry_after) * 1000 || 0;
      const wait = Math.min(RATE_LIMIT_MAX_MS, Math.max(RATE_LIMIT_MIN_MS, asked));
      outboxPausedUntil = Math.max(outboxPausedUntil, Date.now() + wait);
      flushOutbox(); // which waits out the pause
      return;
    }
    record.state = "failed";
    record.reason = FAILED_REASONS.has(frame.code) ? frame.code : "failed";
    render(record);
    scheduleSave();
  }

  // ---- the page the shopper is on ---------------------------------------------------

  let lastContextKey = "";
  let navigationTimer = 0;

  function pageContext() {
    return {
      url: window.location.href,
      title: document.title,
      product: state.product,
      referrer: document.referrer,
      language: navigator.language,
      timezone: timeZone(),
    };
  }

  function contextKey(context) {
    return JSON.stringify([context.url, context.title, context.product]);
  }

  /** Tell the server about a page change; `force` sends even if nothing seems to differ. */
  function sendContext(force) {
    notePage(); // a new URL is a page view (shopping behaviour, below)
    const context = pageContext();
    const key = contextKey(context);
    if (!force && key === lastContextKey) return;
    // Offline, the next hello carries the context anyway.
    if (send({ type: "context.update", context })) lastContextKey = key;
  }

  /** Single-page stores change pages with pushState; the title usually follows a moment later. */
  function watchNavigation() {
    const changed = () => {
      clearTimeout(navigationTimer);
      navigationTimer = setTimeout(() => sendContext(false), CONTEXT_SETTLE_MS);
    };
    try {
      const pushState = window.history.pushState;
      window.history.pushState = function portsidePushState(...args) {
        const result = pushState.apply(this, args);
        changed();
        return result;
      };
    } catch {
      // a history object that cannot be patched: popstate and Portside.setContext still work
    }
    window.addEventListener("popstate", changed);
  }

  // ---- the connection ----------------------------------------------------------------

  let ws = null;
  let welcomed = false;
  let suspended = false; // the page is going into the back/forward cache
  let attempt = 0;
  let retryTimer = 0;
  let connectTimer = 0;
  let pingTimer = 0;
  let watchdogTimer = 0;
  let lastFrameAt = 0;

  function connected() {
    return welcomed && ws !== null && ws.readyState === WebSocket.OPEN;
  }

  /** Send a frame once the server has welcomed us; false if it could not go. */
  function send(frame) {
    return connected() && rawSend(frame);
  }

  function rawSend(frame) {
    try {
      ws.send(JSON.stringify({ v: PROTOCOL_VERSION, ...frame }));
      return true;
    } catch {
      return false;
    }
  }

  function connect() {
    if (state.fatal || suspended || ws) return;
    clearTimeout(retryTimer);
    retryTimer = 0;
    setConnection("connecting");
    let socket;
    try {
      socket = new WebSocket(socketUrl());
    } catch {
      // The browser refuses outright (a ws: URL from an https page): no retry will help.
      state.fatal = true;
      setConnection("offline");
      return;
    }
    ws = socket;
    welcomed = false;
    lastFrameAt = Date.now();
    connectTimer = setTimeout(() => {
      if (ws === socket && !welcomed) reconnectLater();
    }, CONNECT_TIMEOUT_MS);
    socket.addEventListener("open", () => {
      if (ws === socket) rawSend(helloFrame());
    });
    socket.addEventListener("message", (message) => {
      if (ws === socket) receive(message.data);
    });
    socket.addEventListener("close", (event) => {
      if (ws === socket) onClosed(event.code);
    });
  }

  function helloFrame() {
    const context = pageContext();
    lastContextKey = contextKey(context);
    const hello = { type: "hello", context };
    if (state.token) hello.token = state.token;
    const id = state.conversationId;
    if (id !== null) {
      hello.conversation_id = id;
      if (highestFor(id) > 0) hello.last_seq = highestFor(id);
    }
    return hello;
  }

  function receive(text) {
    lastFrameAt = Date.now();
    armWatchdog();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // the server only sends JSON objects; anything else is ignored
    }
    if (!frame || typeof frame !== "object") return;
    switch (frame.type) {
      case "ping":
        rawSend({ type: "pong" });
        break;
      case "welcome":
        onWelcome(frame);
        break;
      case "event":
        if (welcomed) applyEvent(frame.event);
        break;
      case "ack":
        onAck(frame);
        break;
      case "error":
        onError(frame);
        break;
      case "typing":
        onTyping(frame);
        break;
      case "synced":
        onSynced(frame);
        break;
      case "queue":
        onQueue(frame);
        break;
      case "track.ack":
        onTrackAck(frame);
        break;
      case "identify.ack":
        onIdentified(frame);
        break;
      case "conversation.deleted":
        // The store deleted it (an erasure request): it leaves the screen and the cache.
        if (frame.conversation_id === state.conversationId) {
          reconcile(null);
          state.status = null;
          renderPersonButton();
          renderQueue();
          scheduleSave();
        }
        break;
      default:
        break; // pong, or a frame from a newer server
    }
  }

  function onWelcome(frame) {
    clearTimeout(connectTimer);
    welcomed = true;
    attempt = 0;
    state.everConnected = true;

    const visitor = frame.visitor && typeof frame.visitor === "object" ? frame.visitor : {};
    if (typeof visitor.token === "string" && visitor.token) {
      state.token = visitor.token; // renewed on every hello
      storage.write("token", visitor.token);
    }
    const heartbeat = Number(frame.heartbeat_s);
    if (heartbeat > 0) state.heartbeatMs = Math.max(heartbeat, MIN_HEARTBEAT_S) * 1000;
    const limits = frame.limits && typeof frame.limits === "object" ? frame.limits : {};
    if (Number.isInteger(limits.max_message_chars) && limits.max_message_chars > 0) {
      state.maxChars = limits.max_message_chars;
      ui.input.maxLength = state.maxChars;
    }
    const store = frame.store && typeof frame.store === "object" ? frame.store : {};
    if (typeof store.name === "string" && store.name) setStoreName(store.name);
    const taken = frame.attachments || {};
    const voiceS = Array.isArray(taken.kinds) && taken.kinds.includes("voice") && taken.max_voice_s;
    state.voiceS = voiceS > 0 ? voiceS : 0;
    const md = navigator.mediaDevices;
    ui.mic.hidden = !(state.voiceS && window.MediaRecorder && md && md.getUserMedia);
    ui.form.classList.toggle("voice", !ui.mic.hidden);

    reconcile(frame.conversation);
    const conversation = frame.conversation;
    state.status =
      conversation && typeof conversation.status === "string" ? conversation.status : null;

    clearInterval(pingTimer);
    pingTimer = setInterval(() => rawSend({ type: "ping" }), state.heartbeatMs);
    armWatchdog();
    setConnection("connected");
    inFlight.clear();
    flushOutbox();
    trackingOnline(frame);
    updateCounter();
    scheduleSave();
  }

  /**
   * Line up what is on screen with the conversation the server says is the visitor's.
   * The server then replays what we miss: from our last_seq if it is the conversation we
   * named in the hello, from the start otherwise.
   */
  function reconcile(conversation) {
    const current = state.conversationId;
    if (!conversation || !Number.isInteger(conversation.id)) {
      // No conversation (a new visitor, or it was erased): forget the one we remembered.
      if (current !== null) {
        state.conversationId = null;
        state.highest.clear();
        forgetConfirmed();
      }
      return;
    }
    const id = conversation.id;
    if (id !== current) {
      forgetConfirmed();
      state.highest.clear();
      state.conversationId = id;
      return;
    }
    if (isSeq(conversation.last_seq) && conversation.last_seq < highestFor(id)) {
      // We remember events the server no longer has (its database was restored from a
      // backup): its log is the truth, so start over from it.
      forgetConfirmed();
      state.highest.set(id, 0);
      send({ type: "sync", conversation_id: id, after_seq: 0 });
    }
  }

  function onSynced(frame) {
    const id = frame.conversation_id;
    if (frame.more === true && id === state.conversationId) {
      send({ type: "sync", conversation_id: id, after_seq: highestFor(id) });
    }
  }

  /** Silence for two heartbeats means the line is dead even if the browser has not noticed. */
  function armWatchdog() {
    clearTimeout(watchdogTimer);
    watchdogTimer = setTimeout(() => {
      if (ws && Date.now() - lastFrameAt >= 2 * state.heartbeatMs) reconnectLater();
    }, 2 * state.heartbeatMs);
  }

  function onClosed(code) {
    release(null);
    if (suspended) return;
    if (CLOSE_FATAL.has(code)) {
      state.fatal = true;
      setConnection("offline");
      return;
    }
    scheduleRetry(code === CLOSE_TOO_MANY ? TOO_MANY_RETRY_MS : 0);
  }

  /** Forget the socket and its timers; close it with `code` if it is still open. */
  function release(code) {
    const socket = ws;
    ws = null;
    welcomed = false;
    clearTimeout(connectTimer);
    clearTimeout(watchdogTimer);
    clearInterval(pingTimer);
    inFlight.clear();
    trackingOffline();
    typingOut.active = false;
    typingOut.sentAt = 0;
    hideTyping();
    if (socket && code !== null && socket.readyState <= WebSocket.OPEN) {
      try {
        socket.close(code);
      } catch {
        // closing a socket that is still connecting can throw in older browsers
      }
    }
  }

  function reconnectLater() {
    release(4000);
    scheduleRetry(0);
  }

  /** 0.5 s doubling to 15 s, +-20%; `floor` is the least wait (close 4429 asks for 15 s). */
  function scheduleRetry(floor) {
    const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
    attempt += 1;
    let delay = base * (1 - RETRY_JITTER + Math.random() * 2 * RETRY_JITTER);
    if (floor) delay = Math.max(delay, floor * (1 + Math.random() * RETRY_JITTER));
    setConnection("offline");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  }

  /** The network came back, or the shopper came back to the tab: do not wait out the backoff. */
  function retryNow() {
    if (state.fatal || suspended) return;
    if (ws && welcomed && Date.now() - lastFrameAt >= 2 * state.heartbeatMs) release(4000);
    if (!ws) connect();
  }

  // ---- shopping behaviour (docs/widget.md, "Shopping behaviour") ---------------------

  const TRACK_REF = "track-";
  const TRACK_EVERY_MS = 1000;
  const TRACK_BATCH = 50; // the server's limit per batch
  const TRACK_KEPT = 500; // a shopper offline for long loses the oldest
  const IDLE_AFTER_MS = 30000; // no pointer, key or scroll for this long: idle
  const SESSION_GAP_MS = 30 * 60 * 1000; // a new session after 30 min without events
  const FAST_SCROLL_MS = 300; // half a screen up within this long: exit intent on touch
  const URGENT = new Set([
    "exit_intent",
    "add_to_cart",
    "checkout_started",
    "checkout_completed",
    "proactive_closed",
  ]);
  const PUBLIC_TYPES = new Set(["add_to_cart", "checkout_started", "checkout_completed"]);
  const CUSTOM_NAME = /^[a-z0-9_.-]{1,64}$/;
  const PROPERTY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

  const tracking = {
    queue: [], // events not yet acked: {client_id, type, data, url, at, session_id, ref}
    sent: 0,
    timer: 0,
    pausedUntil: 0, // after `rate_limited`
    visitorId: null,
    category: normaliseCategory(script.dataset.category),
    identify: null, // {customer, hash} until the server answers it
    page: null, // the page being measured (newPage)
    session: null, // the session when sessionStorage is unavailable
  };

  function normaliseCategory(value) {
    return typeof value === "string" && value.trim() ? value.trim().slice(0, 200) : null;
  }

  /** sessionStorage (this tab only); like localStorage it may be missing or throw. */
  function tabStore(name, value) {
    try {
      const key = storage.key(name);
      if (value === undefined) return JSON.parse(window.sessionStorage.getItem(key));
      if (value === null) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, JSON.stringify(value));
    } catch {
      // no session storage: the session then lasts as long as the page
    }
    return null;
  }

  /** This tab's browsing session, new after 30 minutes without events. */
  function sessionId() {
    const now = Date.now();
    const kept = tabStore("session") || tracking.session;
    const id =
      kept && typeof kept.id == "string" && CLIENT_ID.test(kept.id) && now - kept.last < SESSION_GAP_MS
        ? kept.id
        : `s-${newClientId().slice(2)}`;
    tracking.session = { id, last: now };
    tabStore("session", tracking.session);
    return id;
  }

  /** Queue one event (R's proactive messages call this too: `proactive_closed`). The
      server checks `data` again and refuses what does not fit (docs/protocol.md). */
  function track(type, data, url) {
    tracking.queue.push({
      client_id: newClientId(),
      type,
      data: data && typeof data === "object" ? data : {},
      url: url || window.location.href,
      at: Date.now(),
      session_id: sessionId(),
      ref: null,
    });
    tracking.queue.splice(0, tracking.queue.length - TRACK_KEPT);
    if (URGENT.has(type)) flushTrack();
    else if (!tracking.timer) flushLater(TRACK_EVERY_MS);
  }

  function flushLater(ms) {
    clearTimeout(tracking.timer);
    tracking.timer = setTimeout(flushTrack, ms);
  }

  /** Send what is not on its way yet, in batches of one session each. */
  function flushTrack() {
    clearTimeout(tracking.timer);
    tracking.timer = 0;
    const wait = tracking.pausedUntil - Date.now();
    if (wait > 0) return flushLater(wait);
    for (;;) {
      const waiting = tracking.queue.filter((event) => event.ref === null);
      if (!waiting.length || !connected()) return; // `welcome` flushes
      const sid = waiting[0].session_id;
      const batch = waiting.filter((event) => event.session_id === sid).slice(0, TRACK_BATCH);
      const ref = `${TRACK_REF}${(tracking.sent += 1)}`;
      if (!send({ type: "track", ref, session_id: sid, events: batch.map(wireEvent) })) return;
      for (const event of batch) event.ref = ref;
    }
  }

  function wireEvent({ client_id, type, data, url, at }) {
    return { client_id, type, data, url, at };
  }

  function onTrackAck(frame) {
    tracking.queue = tracking.queue.filter((event) => event.ref !== frame.ref);
  }

  function onTrackError(frame) {
    const batch = tracking.queue.filter((event) => event.ref === frame.ref);
    for (const event of batch) event.ref = null;
    let drop = [];
    if (frame.code === "rate_limited") {
      const asked = Number(frame.retry_after) * 1000 || 0;
      tracking.pausedUntil =
        Date.now() + Math.min(RATE_LIMIT_MAX_MS, Math.max(RATE_LIMIT_MIN_MS, asked));
    } else if (frame.code === "invalid_event" && Array.isArray(frame.details)) {
      // Only the events named will never be taken: the rest go again.
      drop = frame.details.map((problem) => problem && problem.client_id);
      warn(frame.message);
    } else if (frame.code === "malformed_frame") {
      drop = batch.map((event) => event.client_id);
    } // else a passing failure (the database away): try again
    tracking.queue = tracking.queue.filter((event) => !drop.includes(event.client_id));
    flushLater(TRACK_EVERY_MS);
  }

  function warn(message) {
    if (window.console) console.warn(`Portside: ${message}`);
  }

  /** After every `welcome`: resend everything not acked, and the identify. */
  function trackingOnline(frame) {
    const visitor = frame.visitor || {};
    if (Number.isInteger(visitor.id)) {
      tracking.visitorId = visitor.id;
      storage.write("visitor", visitor.id);
    }
    trackingOffline();
    flushTrack();
    sendIdentify();
  }

  function trackingOffline() {
    for (const event of tracking.queue) event.ref = null;
  }

  /** The page goes away: its time, then the unsent rest by beacon, or kept for the next
      page of the store (same client ids). */
  function trackingLeave() {
    closePage();
    const left = [];
    for (const event of tracking.queue) {
      const chunk = tracking.queue.filter((e) => e.session_id === event.session_id);
      if (event !== chunk[0]) continue;
      for (let i = 0; i < chunk.length; i += TRACK_BATCH) {
        const part = chunk.slice(i, i + TRACK_BATCH);
        if (!beacon(event.session_id, part)) left.push(...part);
      }
    }
    tracking.queue = [];
    if (left.length) tabStore("track", left);
  }

  function beacon(sid, events) {
    if (!state.token || !navigator.sendBeacon) return false;
    const body = { store: STORE_KEY, token: state.token, session_id: sid };
    body.events = events.map(wireEvent);
    try {
      // A string goes as text/plain: a "simple" request, with no CORS preflight.
      const url = `${new URL(script.src, window.location.href).origin}/api/v1/track`;
      return navigator.sendBeacon(url, JSON.stringify(body));
    } catch {
      return false;
    }
  }

  // -- time on page, idle time, exit intent

  function newPage(referrer) {
    const now = Date.now();
    const url = window.location.href;
    tracking.page = {
      url,
      visibleMs: 0,
      idleMs: 0,
      visibleSince: document.visibilityState === "visible" ? now : null,
      idleSince: null,
      lastInput: now,
      exited: false,
    };
    const utm = {};
    const params = new URL(url).searchParams;
    for (const key of ["source", "medium", "campaign", "term", "content"]) {
      const value = (params.get(`utm_${key}`) || "").trim();
      if (value) utm[key] = value.slice(0, 200);
    }
    track("page_view", {
      url,
      title: document.title.slice(0, 500),
      product: state.product,
      category: tracking.category,
      referrer: referrer || null,
      utm,
    });
  }

  /** Add the time since the last look to the page's visible and idle totals. */
  function accumulate(page) {
    const now = Date.now();
    if (page.visibleSince !== null) page.visibleMs += now - page.visibleSince;
    if (page.idleSince !== null) page.idleMs += now - page.idleSince;
    if (page.visibleSince !== null) page.visibleSince = now;
    if (page.idleSince !== null) page.idleSince = now;
  }

  function closePage() {
    const page = tracking.page;
    if (!page) return;
    accumulate(page);
    tracking.page = null;
    // The page measured, not the one a single-page store has already moved to.
    const times = { visible_ms: page.visibleMs, idle_ms: page.idleMs };
    track("page_time", times, page.url);
  }

  /** A single-page store may have changed page (pushState, popstate, setContext). */
  function notePage() {
    const page = tracking.page;
    if (page && page.url === window.location.href) return;
    closePage();
    newPage(page ? page.url : document.referrer);
  }

  function onInput() {
    const page = tracking.page;
    if (!page) return;
    page.lastInput = Date.now();
    if (page.idleSince === null) return;
    accumulate(page);
    page.idleSince = null;
    track("idle", { idle: false });
  }

  function checkIdle() {
    const page = tracking.page;
    if (!page || page.idleSince !== null || page.visibleSince === null) return;
    if (Date.now() - page.lastInput < IDLE_AFTER_MS) return;
    accumulate(page);
    page.idleSince = Date.now();
    track("idle", { idle: true });
  }

  function onVisibility() {
    const page = tracking.page;
    const visible = document.visibilityState === "visible";
    if (!page || visible === (page.visibleSince !== null)) return;
    accumulate(page);
    // Idle time counts only while the page is seen; coming back to it is input.
    page.visibleSince = visible ? Date.now() : null;
    page.idleSince = null;
    page.lastInput = Date.now();
    track("visibility", { visible });
  }

  function exitIntent() {
    const page = tracking.page;
    if (!page || page.exited) return;
    page.exited = true;
    track("exit_intent", {});
  }

  function watchBehaviour() {
    const touch =
      navigator.maxTouchPoints > 0 ||
      (window.matchMedia && window.matchMedia("(pointer: coarse)").matches);
    for (const name of ["pointermove", "pointerdown", "keydown", "scroll", "touchstart", "wheel"]) {
      window.addEventListener(name, onInput, { passive: true, capture: true });
    }
    setInterval(checkIdle, IDLE_AFTER_MS / 6);
    document.addEventListener("visibilitychange", onVisibility);
    // Desktop: the pointer leaves through the top edge (the tabs, address bar, close).
    document.addEventListener("mouseout", (event) => {
      if (!event.relatedTarget && event.clientY <= 0) exitIntent();
    });
    // Touch: a fast scroll back up (reaching for the address bar), or going back.
    let fromY = window.scrollY;
    let fromAt = Date.now();
    window.addEventListener(
      "scroll",
      () => {
        const now = Date.now();
        const up = fromY - window.scrollY;
        if (touch && now - fromAt <= FAST_SCROLL_MS && up > window.innerHeight / 2) exitIntent();
        if (up <= 0 || now - fromAt > FAST_SCROLL_MS) {
          fromY = window.scrollY;
          fromAt = now;
        }
      },
      { passive: true }
    );
    window.addEventListener("popstate", () => touch && exitIntent());
    window.addEventListener("pagehide", trackingLeave);
    window.addEventListener("pageshow", (event) => event.persisted && newPage(document.referrer));
  }

  function sendIdentify() {
    if (tracking.identify) send({ type: "identify", ref: "identify", ...tracking.identify });
  }

  function onIdentified(frame) {
    if (frame.type === "error") warn(`identify was refused: ${frame.message}`);
    tracking.identify = null;
  }

  /** Portside.track(name, props): the store's own events. */
  function publicTrack(name, props) {
    const data = props && typeof props === "object" ? props : {};
    if (PUBLIC_TYPES.has(name)) return track(name, data) || true;
    const keys = Object.keys(data);
    const flat = keys.every(
      (key) =>
        PROPERTY_NAME.test(key) &&
        (data[key] === null || ["string", "number", "boolean"].includes(typeof data[key]))
    );
    if (typeof name !== "string" || !CUSTOM_NAME.test(name) || keys.length > 20 || !flat) {
      warn("a custom event is a name of a-z 0-9 _ . - and at most 20 flat properties.");
      return false;
    }
    track("custom", { name, properties: data });
    return true;
  }

  function publicIdentify(customer) {
    const { id, email, name, tags, hash } = customer || {};
    tracking.identify = { customer: { id, email, name, tags }, hash };
    sendIdentify();
  }

  function startTracking() {
    const left = tabStore("track");
    tabStore("track", null);
    if (Array.isArray(left)) tracking.queue = left.slice(-TRACK_KEPT);
    trackingOffline();
    const kept = storage.read("visitor");
    if (Number.isInteger(kept)) tracking.visitorId = kept;
    watchBehaviour();
    newPage(document.referrer);
  }

  // ---- start -------------------------------------------------------------------------

  function wireUi() {
    ui.launcher.addEventListener("click", () => setOpen(!state.open, true));
    ui.closeButton.addEventListener("click", () => setOpen(false, true));
    ui.personButton.addEventListener("click", () => {
      if (send({ type: "person.request" })) ui.personButton.hidden = true;
    });
    ui.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.open) {
        event.preventDefault();
        event.stopPropagation();
        setOpen(false, true);
      }
    });
    ui.attach.addEventListener("click", () => media().then((m) => m.pick()));
    ui.mic.addEventListener("click", () => media().then((m) => m.record(state.voiceS)));
    ui.panel.addEventListener("dragover", (event) => event.preventDefault());
    const take = (event) => {
      const dropped = (event.dataTransfer || event.clipboardData).files;
      if (!dropped.length) return;
      event.preventDefault();
      media().then((m) => m.take(dropped));
    };
    ui.panel.addEventListener("drop", take);
    ui.panel.addEventListener("paste", take);
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    ui.input.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter is a new line; Enter that ends an IME composition
      // (Chinese, Japanese, Korean input) only picks the characters.
      if (event.key !== "Enter" || event.shiftKey) return;
      if (event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      submit();
    });
    ui.input.addEventListener("input", () => {
      updateCounter();
      typingPulse();
    });
    ui.input.addEventListener("paste", (event) => {
      // maxlength cuts a long paste short without a word: say so.
      const pasted = event.clipboardData ? event.clipboardData.getData("text") : "";
      const { value, selectionStart, selectionEnd } = ui.input;
      if (value.length - (selectionEnd - selectionStart) + pasted.length > ui.input.maxLength) {
        setTimeout(() => showError(t("tooLong", { max: state.maxChars })), 0);
      }
    });
  }

  function wireWindow() {
    window.addEventListener("online", retryNow);
    window.addEventListener("offline", renderConnection);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") retryNow();
    });
    // An open socket keeps a page out of the back/forward cache: close it on the way out
    // and reconnect if the shopper comes back to this very page.
    window.addEventListener("pagehide", () => {
      saveNow();
      suspended = true;
      clearTimeout(retryTimer);
      release(1000);
    });
    window.addEventListener("pageshow", (event) => {
      if (!event.persisted) return;
      suspended = false;
      attempt = 0;
      connect();
    });
    watchNavigation();
  }

  window.Portside = Object.freeze({
    open() {
      if (ui) setOpen(true, true);
      else state.open = true;
    },
    close() {
      if (ui) setOpen(false, false);
      else state.open = false;
    },
    /** The product the shopper is looking at (a slug), or null. */
    setProduct(slug) {
      state.product = normaliseProduct(slug);
      sendContext(true);
    },
    /** The page changed without pushState: send the current url and title (and product). */
    setContext(context) {
      if (context && typeof context === "object" && "product" in context) {
        state.product = normaliseProduct(context.product);
      }
      if (context && typeof context === "object" && "category" in context) {
        tracking.category = normaliseCategory(context.category);
      }
      sendContext(true);
    },
    /** The store's own events: add_to_cart, checkout_started, checkout_completed, or a
        custom name with flat properties (docs/widget.md). False if it was not taken. */
    track(name, props) {
      return publicTrack(name, props);
    },
    /** A logged-in customer, with the hash the store's server computed (docs/widget.md). */
    identify(customer) {
      publicIdentify(customer);
    },
    /** This shopper's id in Portside (pass it to checkout as `portside_visitor`), or null
        before the first connection. */
    visitorId() {
      return tracking.visitorId;
    },
  });

  function start() {
    const wantOpen = state.open; // Portside.open() may have been called before this
    host = el("div", { id: "portside-widget" });
    const shadow = host.attachShadow({ mode: "open" });
    applyStyles(shadow);
    ui = buildUi();
    shadow.append(ui.root);
    document.body.append(host);
    wireUi();
    restore();
    // A panel left open on the last page opens again, without taking the focus.
    setOpen(state.open || wantOpen, false);
    renderConnection();
    wireWindow();
    startTracking();
    connect();
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
