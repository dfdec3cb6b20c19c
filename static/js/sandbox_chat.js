// Sandbox chat: polls our JSON feed, draws the conversation, posts what the test user does.
(function () {
  "use strict";
  var section = document.getElementById("conversation");
  if (!section) { return; }
  var log = document.getElementById("chat-log");
  var errorBox = document.getElementById("chat-error");
  var lastDrawn = "";
  var pendingAnswers = [];  // callback_query_ids of our presses the bot has not answered yet

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function bubble(message) {
    var item = el("li", "mb-2 d-flex " + (message.from_bot ? "from-bot justify-content-start" : "from-user justify-content-end"));
    var box = el("div", "p-2 rounded border " + (message.from_bot ? "bg-light" : "bg-primary-subtle"));
    box.dir = "auto";  // each message reads in its own direction, also on a right-to-left page
    box.style.maxWidth = "75%";
    box.style.whiteSpace = "pre-wrap";
    if (message.photo) {
      var img = el("img", "img-fluid rounded mb-1 d-block");
      img.alt = section.dataset.textPhoto;
      img.src = section.dataset.photoUrl + "&file_id=" + encodeURIComponent(message.photo);
      box.appendChild(img);
    }
    if (message.invoice) {
      box.appendChild(el("div", "fw-bold", message.invoice.title));
      box.appendChild(el("div", "", message.invoice.description));
      box.appendChild(el("div", "text-muted small", "⭐ " + message.invoice.amount));
    }
    var text = message.text || message.caption;
    if (text) { box.appendChild(el("div", "", text)); }
    if (message.edited) { box.appendChild(el("small", "text-muted", section.dataset.textEdited)); }
    message.buttons.forEach(function (row) {
      var line = el("div", "d-flex gap-1 mt-1");
      row.forEach(function (button) {
        var b = el("button", "btn btn-sm btn-outline-secondary flex-fill", button.text);
        b.type = "button";
        if (button.pay && message.invoice) {
          b.className = "btn btn-sm btn-primary flex-fill sandbox-pay";
          b.addEventListener("click", function () { payInvoice(b, message.invoice.slug); });
        } else if (button.data) {
          b.addEventListener("click", function () { press(message.id, button.data); });
        } else { b.disabled = true; }
        line.appendChild(b);
      });
      box.appendChild(line);
    });
    message.keyboard.forEach(function (row) {
      var line = el("div", "d-flex gap-1 mt-1");
      row.forEach(function (label) {
        var b = el("button", "btn btn-sm btn-secondary flex-fill", label);
        b.type = "button";
        b.addEventListener("click", function () { say(label); });
        line.appendChild(b);
      });
      box.appendChild(line);
    });
    item.appendChild(box);
    return item;
  }

  function draw(messages) {
    var snapshot = JSON.stringify(messages);
    if (snapshot === lastDrawn) { return; }
    lastDrawn = snapshot;
    log.replaceChildren.apply(log, messages.length ? messages.map(bubble) : [el("li", "text-muted", section.dataset.textEmpty)]);
    log.lastElementChild.scrollIntoView({block: "end"});
  }

  // answerCallbackQuery as Telegram shows it: a toast that fades, or (show_alert) a dialog to dismiss.
  function showToast(text) {
    var toast = el("div", "toast show text-bg-dark border-0 mb-1");
    toast.setAttribute("role", "status");
    toast.appendChild(el("div", "toast-body", text)).dir = "auto";
    document.getElementById("chat-toasts").appendChild(toast);
    setTimeout(function () { toast.remove(); }, 4000);
  }

  function showAlert(text) {
    var backdrop = el("div", "modal-backdrop show");
    var modal = el("div", "modal d-block");
    modal.id = "chat-alert";
    modal.setAttribute("role", "alertdialog");
    modal.setAttribute("aria-modal", "true");
    var content = el("div", "modal-content");
    var body = content.appendChild(el("div", "modal-body", text));
    body.dir = "auto";
    body.style.whiteSpace = "pre-wrap";
    var footer = content.appendChild(el("div", "modal-footer"));
    var ok = footer.appendChild(el("button", "btn btn-primary", section.dataset.textOk));
    ok.type = "button";
    ok.addEventListener("click", function () { modal.remove(); backdrop.remove(); });
    modal.appendChild(el("div", "modal-dialog modal-dialog-centered modal-sm")).appendChild(content);
    document.body.appendChild(backdrop);
    document.body.appendChild(modal);
    ok.focus();
  }

  function showAnswers(answers) {
    (answers || []).forEach(function (answer) {
      // Two refreshes in flight both ask for a pending answer: only the first to arrive shows it.
      if (pendingAnswers.indexOf(answer.callback_query_id) === -1) { return; }
      pendingAnswers = pendingAnswers.filter(function (id) { return id !== answer.callback_query_id; });
      if (!answer.text) { return; }
      if (answer.show_alert) { showAlert(answer.text); } else { showToast(answer.text); }
    });
  }

  function refresh() {
    var url = section.dataset.messagesUrl;
    if (pendingAnswers.length) { url += "&answers=" + encodeURIComponent(pendingAnswers.join(",")); }
    fetch(url, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.error) { showError(body.error); return; }
        showError("");
        draw(body.messages);
        showAnswers(body.answers);
      })
      .catch(function () { showError(section.dataset.textOffline); });
  }

  function post(url, data) {
    return fetch(url, {method: "POST", body: data, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        showError(body.error || "");
        var queryId = body.result && body.result.callback_query_id;
        if (queryId) { pendingAnswers.push(queryId); }
        refresh();
      });
  }

  // Pay on a Stars invoice: the sandbox asks the bot (pre_checkout_query); a refusal shows its error_message.
  function payInvoice(button, slug) {
    var form = new FormData(document.getElementById("press-form"));
    form.append("invoice", slug);
    button.disabled = true;
    fetch(section.dataset.payUrl, {method: "POST", body: form, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        showError(body.error || "");
        if (body.result && body.result.status === "declined") { showAlert(body.result.error_message); }
        refresh();
      })
      .catch(function () { showError(section.dataset.textOffline); })
      .then(function () { button.disabled = false; });
  }

  function press(messageId, data) {
    var form = new FormData(document.getElementById("press-form"));
    form.append("message_id", messageId);
    form.append("data", data);
    post(section.dataset.pressUrl, form);
  }

  function say(text) {
    var form = document.getElementById("send-form");
    var data = new FormData(form);
    data.set("text", text);
    post(form.action, data);
  }

  ["send-form", "upload-form"].forEach(function (id) {
    var form = document.getElementById(id);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      post(form.action, new FormData(form)).then(function () { form.reset(); });
    });
  });

  refresh();
  setInterval(refresh, 1000);
}());
