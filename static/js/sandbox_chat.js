// Sandbox chat: polls our JSON feed, draws the conversation, posts what the test user does.
(function () {
  "use strict";
  var section = document.getElementById("conversation");
  if (!section) { return; }
  var log = document.getElementById("chat-log");
  var errorBox = document.getElementById("chat-error");
  var lastDrawn = "";

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
    var text = message.text || message.caption;
    if (text) { box.appendChild(el("div", "", text)); }
    if (message.edited) { box.appendChild(el("small", "text-muted", section.dataset.textEdited)); }
    message.buttons.forEach(function (row) {
      var line = el("div", "d-flex gap-1 mt-1");
      row.forEach(function (button) {
        var b = el("button", "btn btn-sm btn-outline-secondary flex-fill", button.text);
        b.type = "button";
        if (button.data) {
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

  function refresh() {
    fetch(section.dataset.messagesUrl, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (body) { if (body.error) { showError(body.error); } else { showError(""); draw(body.messages); } })
      .catch(function () { showError(section.dataset.textOffline); });
  }

  function post(url, data) {
    return fetch(url, {method: "POST", body: data, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (body) { showError(body.error || ""); refresh(); });
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
