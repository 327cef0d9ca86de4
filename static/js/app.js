// Progressive enhancement only: every page works without this file.
import { initAll } from "/static/build/govuk-frontend.min.js";
import { initServicePickers } from "/static/js/service-picker.js";

initAll();
initServicePickers();
