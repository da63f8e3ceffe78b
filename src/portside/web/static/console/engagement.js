// Proactive engagement in the console: the Triggers and Coupons views (opened from the
// top bar) and the hot-lead cards, started for one signed-in session.

import { byId } from "./dom.js";
import { CouponsView } from "./coupons.js";
import { LeadCards } from "./leads.js";
import { TriggersView } from "./triggers.js";

/**
 * @returns {{onLead: (frame: object) => void, stop: () => void}}
 *   `onLead` takes the socket's `lead` frames; `stop()` undoes everything.
 */
export function startEngagement({ api, agent, toast }) {
  const onError = (message) => toast.show(message);
  const triggers = new TriggersView({ api, agent, onError });
  const coupons = new CouponsView({ api, agent, onError });
  const leads = new LeadCards();
  const openTriggers = byId("open-triggers");
  const openCoupons = byId("open-coupons");
  const showTriggers = () => triggers.open();
  const showCoupons = () => coupons.open();
  openTriggers.addEventListener("click", showTriggers);
  openCoupons.addEventListener("click", showCoupons);
  return {
    onLead: (frame) => leads.show(frame),
    stop() {
      openTriggers.removeEventListener("click", showTriggers);
      openCoupons.removeEventListener("click", showCoupons);
      triggers.destroy();
      coupons.destroy();
      leads.destroy();
    },
  };
}
