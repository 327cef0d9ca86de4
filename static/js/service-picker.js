// The LGSL service picker: as an officer types in "Search for a service", matching services appear
// below the box as checkboxes to tick, and a live region says how many were found. Without
// JavaScript the "Find services" button runs the same search on the server.

const MIN_LENGTH = 2;
const DELAY_MS = 250;

export class ServicePicker {
  constructor(module) {
    this.module = module;
    this.input = module.querySelector('input[name="service_query"]');
    this.button = module.querySelector('button[name="find_services"]');
    this.chosen = module.querySelector("#service-choices");
    this.search = module.querySelector(".app-service-search");
    this.url = module.dataset.searchUrl || "/services/search";
    this.timer = null;
    this.request = null;
    this.lastQuery = null;
  }

  init() {
    if (!this.input || !this.chosen || !this.search || !window.fetch) {
      return;
    }
    this.results = document.createElement("div");
    this.results.className = "govuk-checkboxes govuk-checkboxes--small app-service-results";
    this.results.id = "service-results";
    this.search.after(this.results);
    this.status = this.module.querySelector('[role="status"]') || this.createStatus();

    const hint = this.module.querySelector(`#${this.input.id}-hint`);
    if (hint) {
      const help = document.createElement("span");
      help.className = "govuk-visually-hidden";
      help.textContent = ". Matching services appear below as you type.";
      hint.append(help);
    }
    this.input.setAttribute("aria-controls", this.results.id);

    this.input.addEventListener("input", () => this.scheduleSearch());
    this.input.addEventListener("keydown", (event) => this.onKeydown(event));
    if (this.button) {
      this.button.addEventListener("click", (event) => {
        event.preventDefault();
        this.runSearch(true);
      });
    }
  }

  createStatus() {
    const status = document.createElement("p");
    status.className = "govuk-body app-service-status";
    status.setAttribute("role", "status");
    // In the page (not hidden) from the start, so screen readers announce what is later written to it.
    this.search.after(status);
    return status;
  }

  onKeydown(event) {
    if (event.key === "Enter") {
      // Enter would send the whole project form: search instead.
      event.preventDefault();
      this.runSearch(true);
    } else if (event.key === "ArrowDown") {
      const first = this.results.querySelector("input");
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  }

  scheduleSearch() {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.runSearch(false), DELAY_MS);
  }

  async runSearch(force) {
    window.clearTimeout(this.timer);
    const query = this.input.value.trim();
    if (query.length < MIN_LENGTH) {
      this.keepTicked();
      this.results.replaceChildren();
      this.lastQuery = null;
      this.say(force ? "Enter at least 2 letters to search for a service." : "");
      return;
    }
    if (query === this.lastQuery && !force) {
      return;
    }
    this.lastQuery = query;
    if (this.request) {
      this.request.abort();
    }
    this.request = new AbortController();
    try {
      const response = await fetch(`${this.url}?q=${encodeURIComponent(query)}`, {
        headers: { Accept: "application/json" },
        signal: this.request.signal,
      });
      if (!response.ok) {
        throw new Error(`search failed: ${response.status}`);
      }
      const data = await response.json();
      this.show(query, data.services || []);
    } catch (error) {
      if (error.name !== "AbortError") {
        this.lastQuery = null;
        this.say("Services could not be searched just now. Try again in a moment.");
      }
    }
  }

  // Ticked results join the chosen services before the results are replaced, so nothing ticked is lost.
  keepTicked() {
    for (const box of this.results.querySelectorAll("input:checked")) {
      this.chosen.append(box.closest(".govuk-checkboxes__item"));
    }
  }

  show(query, services) {
    this.keepTicked();
    const items = services
      .filter((service) => !document.getElementById(`service-${service.id}`))
      .map((service) => this.item(service));
    this.results.replaceChildren(...items);
    if (items.length) {
      const noun = items.length === 1 ? "service" : "services";
      this.say(`${items.length} ${noun} found for “${query}”: tick the ones this project is about.`);
    } else if (services.length) {
      this.say(`The services that match “${query}” are already in your list.`);
    } else {
      this.say(`No services match “${query}”. Try another word.`);
    }
  }

  item(service) {
    const item = document.createElement("div");
    item.className = "govuk-checkboxes__item";
    const box = document.createElement("input");
    box.className = "govuk-checkboxes__input";
    box.type = "checkbox";
    box.name = "services";
    box.value = String(service.id);
    box.id = `service-${service.id}`;
    const label = document.createElement("label");
    label.className = "govuk-label govuk-checkboxes__label";
    label.htmlFor = box.id;
    label.textContent = service.label;
    item.append(box, label);
    return item;
  }

  say(message) {
    this.status.textContent = message;
  }
}

export function initServicePickers(scope = document) {
  for (const module of scope.querySelectorAll('[data-module="app-service-picker"]')) {
    new ServicePicker(module).init();
  }
}
