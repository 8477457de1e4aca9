// The chat page of an LLMClient: plain JavaScript, no build step, no third-party code.
//
// The server embeds three things in <body>: the mode ("client" on a client host, "sandbox" on
// the console's workbench with a pasted token, "console" inside the signed-in web console,
// where the session cookie and a CSRF token authenticate), the URL of the client's UI configuration and the URL to chat with.
// Turns go out with "stream": true and the answer is drawn from the server-sent events as they
// arrive. Every text from the server or the model goes into the page as a text node, never as
// HTML. The session key, the transcript and the credential live in sessionStorage, so they
// survive a reload of this tab and nothing else.
"use strict";

(() => {
  const MAX_SENT_TURNS = 100; // messages of earlier turns sent with a new one
  const page = document.body.dataset;
  const inConsole = page.mode === "console"; // signed in: no credential to ask for
  const sandbox = page.mode === "sandbox";
  const sent = inConsole ? "same-origin" : "omit"; // the console's session cookie
  const $ = (id) => document.getElementById(id);
  const ui = {
    app: $("app"),
    logo: $("logo"),
    name: $("app-name"),
    assistant: $("assistant"),
    badge: $("mode-badge"),
    info: $("info-link"),
    newChat: $("new-chat"),
    credentials: $("credentials"),
    credentialForm: $("credential-form"),
    credentialLabel: $("credential-label"),
    credential: $("credential"),
    credentialHint: $("credential-hint"),
    transcript: $("transcript"),
    welcome: $("welcome"),
    welcomeMessage: $("welcome-message"),
    examples: $("examples"),
    messages: $("messages"),
    error: $("error"),
    composer: $("composer"),
    prompt: $("prompt"),
    send: $("send"),
  };

  // -- storage: one namespace per page (host + chat URL), so two clients never mix ----------

  const scope = `smarter:${location.host}:${page.chatUrl}:`;
  const store = {
    get(name) {
      try {
        return sessionStorage.getItem(scope + name);
      } catch {
        return null;
      }
    },
    set(name, value) {
      try {
        if (value === null || value === undefined || value === "") {
          sessionStorage.removeItem(scope + name);
        } else {
          sessionStorage.setItem(scope + name, value);
        }
      } catch {
        // Storage full or disabled: the page still works for this view.
      }
    },
  };

  function loadTurns() {
    try {
      const turns = JSON.parse(store.get("turns") || "[]");
      return Array.isArray(turns)
        ? turns.filter((t) => t && typeof t.content === "string" && typeof t.role === "string")
        : [];
    } catch {
      return [];
    }
  }

  const state = { config: null, turns: loadTurns(), busy: false };

  function saveTurns() {
    store.set("turns", JSON.stringify(state.turns));
  }

  // -- credentials: an API key on client hosts, the console token in the sandbox -----------

  const credentialName = sandbox ? "token" : "api_key";

  function credentialHeaders() {
    if (inConsole) return { "x-csrftoken": page.csrfToken };
    const secret = store.get(credentialName);
    if (!secret) return {};
    return sandbox ? { Authorization: `Token ${secret}` } : { "x-api-key": secret };
  }

  function askForCredential(hint) {
    ui.credentialLabel.textContent = sandbox ? "Console token" : "API key";
    ui.credentialHint.textContent = hint || "";
    ui.credentials.hidden = false;
    ui.credential.value = "";
    ui.credential.placeholder = store.get(credentialName)
      ? "saved for this tab (paste another to replace it)"
      : "";
  }

  ui.credentialForm.addEventListener("submit", (event) => {
    event.preventDefault();
    store.set(credentialName, ui.credential.value.trim());
    askForCredential(store.get(credentialName) ? "Saved for this tab." : "");
    if (!state.config) loadConfig();
  });

  // -- errors: the platform answers {status_code, detail, field} -----------------------------

  class ChatError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  async function failureOf(response) {
    let detail = "";
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : "";
    } catch {
      // Not JSON (a proxy's page): the status says enough.
    }
    const status = response.status;
    let message = detail || response.statusText || "the request failed";
    if (status === 401) {
      askForCredential(
        sandbox ? "Paste your console API token." : "This assistant needs an API key.",
      );
    } else if (status === 429) {
      const wait = response.headers.get("Retry-After");
      message = wait ? `${message} (try again in ${wait} s)` : message;
    } else if (status === 503) {
      message = detail || "This assistant is not available right now.";
    }
    return new ChatError(`${status}: ${message}`, status);
  }

  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = false;
  }

  function clearError() {
    ui.error.textContent = "";
    ui.error.hidden = true;
  }

  // -- the configuration -------------------------------------------------------------------

  function safeUrl(raw) {
    if (typeof raw !== "string" || !raw) return null;
    try {
      const url = new URL(raw, location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url : null;
    } catch {
      return null;
    }
  }

  async function loadConfig() {
    clearError();
    if (sandbox && !store.get(credentialName)) {
      askForCredential("Paste your console API token to try this client in the sandbox.");
      return;
    }
    let response;
    try {
      response = await fetch(page.configUrl, {
        headers: { Accept: "application/json", ...credentialHeaders() },
        credentials: sent,
        cache: "no-store",
      });
    } catch {
      showError("The platform cannot be reached.");
      return;
    }
    if (!response.ok) {
      showError((await failureOf(response)).message);
      return;
    }
    state.config = await response.json();
    applyConfig(state.config);
  }

  function applyConfig(config) {
    const title = config.app_name || config.name || "Chat";
    ui.name.textContent = title;
    document.title = sandbox || inConsole ? `${title} (sandbox)` : title;
    ui.badge.hidden = !sandbox && !inConsole;
    if (config.app_assistant) {
      ui.assistant.textContent = config.app_assistant;
      ui.assistant.hidden = false;
    }
    const logo = safeUrl(config.app_logo_url);
    if (logo) {
      ui.logo.src = logo.href;
      ui.logo.alt = `${title} logo`;
      ui.logo.hidden = false;
    }
    const background = safeUrl(config.app_background_image_url);
    if (background) {
      // A URL object's href has its quotes percent-encoded: safe inside url("...").
      ui.app.style.backgroundImage = `url("${background.href}")`;
      ui.app.classList.add("with-background");
    }
    const info = safeUrl(config.app_info_url);
    if (info) {
      ui.info.href = info.href;
      ui.info.hidden = false;
    }
    ui.welcomeMessage.textContent = config.app_welcome_message || "";
    ui.examples.replaceChildren(
      ...(config.app_example_prompts || []).map((text) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "example";
        button.textContent = String(text);
        button.addEventListener("click", () => send(String(text)));
        return button;
      }),
    );
    ui.welcome.hidden = !config.app_welcome_message && !ui.examples.childElementCount;
    ui.prompt.placeholder = config.app_placeholder || "Type a message…";
    if (config.is_authentication_required && !store.get(credentialName)) {
      askForCredential("This assistant needs an API key.");
    } else if (sandbox) {
      askForCredential("The console token is kept in this tab only.");
    }
    renderTurns();
    setBusy(false);
    ui.prompt.focus();
  }

  // -- the transcript ----------------------------------------------------------------------

  function bubble(role, text) {
    const item = document.createElement("div");
    item.className = `message ${role}`;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = role === "user" ? "You" : state.config?.app_assistant || "Assistant";
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    item.append(who, body);
    ui.messages.append(item);
    scrollDown();
    return item;
  }

  function renderTurns() {
    ui.messages.replaceChildren();
    for (const turn of state.turns) bubble(turn.role, turn.content);
    ui.examples.hidden = state.turns.length > 0;
  }

  function scrollDown() {
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  function setBusy(busy) {
    state.busy = busy;
    const usable = Boolean(state.config) && !busy;
    ui.send.disabled = !usable;
    ui.prompt.disabled = !state.config;
    ui.send.textContent = busy ? "…" : "Send";
  }

  ui.newChat.addEventListener("click", () => {
    state.turns = [];
    saveTurns();
    store.set("session_key", null);
    clearError();
    renderTurns();
  });

  // -- sending a turn and reading the stream -------------------------------------------------

  async function send(raw) {
    const text = raw.trim();
    if (!text || state.busy || !state.config) return;
    clearError();
    // The server keeps the whole conversation by session key; a long chat sends its tail.
    const recent = state.turns.slice(-MAX_SENT_TURNS);
    const body = {
      messages: [...recent, { role: "user", content: text }].map((t) => ({
        role: t.role,
        content: t.content,
      })),
      stream: true,
    };
    const sessionKey = store.get("session_key");
    if (sessionKey) body.session_key = sessionKey;

    ui.prompt.value = "";
    ui.examples.hidden = true;
    const question = bubble("user", text);
    const answer = bubble("assistant", "");
    const answerText = answer.querySelector(".text");
    answer.classList.add("streaming");
    setBusy(true);
    let received = "";
    try {
      const response = await fetch(page.chatUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "text/event-stream",
          ...credentialHeaders(),
        },
        body: JSON.stringify(body),
        credentials: sent,
        cache: "no-store",
      });
      if (!response.ok) throw await failureOf(response);
      const onChunk = (chunk) => {
        if (chunk.session_key) store.set("session_key", chunk.session_key);
        const delta = chunk.choices?.[0]?.delta?.content;
        if (typeof delta === "string" && delta) {
          received += delta;
          answerText.textContent = received;
          scrollDown();
        }
      };
      const type = response.headers.get("Content-Type") || "";
      if (type.includes("text/event-stream") && response.body) {
        await readEvents(response.body, onChunk);
      } else {
        const reply = await response.json();
        if (reply.session_key) store.set("session_key", reply.session_key);
        received = reply.choices?.[0]?.message?.content ?? "";
        answerText.textContent = received;
      }
      state.turns.push({ role: "user", content: text }, { role: "assistant", content: received });
      saveTurns();
    } catch (error) {
      const message = error instanceof ChatError ? error.message : "The connection was lost.";
      showError(message);
      if (received) {
        // Keep what arrived: the conversation on the server has it too.
        answer.classList.add("interrupted");
        state.turns.push({ role: "user", content: text }, { role: "assistant", content: received });
        saveTurns();
      } else {
        question.remove();
        answer.remove();
        ui.prompt.value = text;
      }
    } finally {
      answer.classList.remove("streaming");
      setBusy(false);
      ui.prompt.focus();
    }
  }

  // Server-sent events: blocks separated by a blank line, each with "data:" lines; the
  // stream ends with "data: [DONE]". An error during the stream arrives as a data block
  // with an "error" (or "detail") in place of a chunk.
  async function readEvents(stream, onChunk) {
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
        buffer = buffer.replace(/\r\n/g, "\n");
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).replace(/^ /, ""))
            .join("\n");
          if (data === "[DONE]") return;
          if (data) onChunk(parseChunk(data));
          end = buffer.indexOf("\n\n");
        }
        if (done) return;
      }
    } finally {
      reader.releaseLock();
    }
  }

  function parseChunk(data) {
    let chunk;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new ChatError("The answer was garbled.", 502);
    }
    const problem = chunk.error ?? (chunk.choices ? null : chunk.detail);
    if (problem) {
      const message = typeof problem === "string" ? problem : problem.message || problem.detail;
      const status = chunk.status_code ?? problem.status_code ?? problem.code ?? "";
      throw new ChatError(`${status ? `${status}: ` : ""}${message || "the answer failed"}`, status);
    }
    return chunk;
  }

  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    send(ui.prompt.value);
  });

  ui.prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(ui.prompt.value);
    }
  });

  ui.badge.hidden = !sandbox && !inConsole;
  loadConfig();
})();
