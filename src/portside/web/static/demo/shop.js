/* Lotus & Pine, the Portside demo store: cart in localStorage, the variant picker on product
   pages, the cart page and a pretend checkout.

   The page's Content-Security-Policy allows no inline script or style, so product data comes
   from a <script type="application/json" id="catalog-data"> block, colours are set through
   element.style, and text only ever goes in through textContent. */
(() => {
  "use strict";

  const CART_KEY = "lotus-pine:cart";
  const MAX_QTY = 99;
  let memoryCart = "[]"; // used when localStorage is unavailable (private mode, blocked storage)

  // ---- cart storage --------------------------------------------------------------------

  function loadCartText() {
    try {
      return window.localStorage.getItem(CART_KEY) ?? "[]";
    } catch {
      return memoryCart;
    }
  }

  /** The cart as [{slug, sku, qty}], ignoring anything malformed someone left in storage. */
  function readCart() {
    let parsed;
    try {
      parsed = JSON.parse(loadCartText());
    } catch {
      return [];
    }
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter(
        (line) =>
          line &&
          typeof line.slug === "string" &&
          typeof line.sku === "string" &&
          Number.isInteger(line.qty) &&
          line.qty > 0,
      )
      .map((line) => ({
        slug: line.slug,
        sku: line.sku,
        qty: Math.min(line.qty, MAX_QTY),
        // The unit price when it was added, so any page can tell the cart's value.
        price: typeof line.price === "string" ? line.price : null,
        currency: typeof line.currency === "string" ? line.currency : null,
      }));
  }

  // ---- what the chat widget hears (docs/widget.md, "Shopping behaviour") ----------------

  /** Tell Portside's widget about a step of the purchase; a page without it is fine. */
  function track(name, props) {
    if (window.Portside && typeof window.Portside.track === "function") {
      window.Portside.track(name, props);
    }
  }

  /** The cart's value and item count, from the prices kept with its lines. */
  function cartFigures(lines) {
    const priced = lines.filter((line) => line.price !== null);
    const cents = priced.reduce((sum, line) => sum + toCents(line.price) * line.qty, 0);
    return {
      cart_value: (cents / 100).toFixed(2),
      cart_items: lines.reduce((sum, line) => sum + line.qty, 0),
      currency: (priced[0] && priced[0].currency) || "USD",
    };
  }

  function writeCart(lines) {
    const text = JSON.stringify(lines);
    try {
      window.localStorage.setItem(CART_KEY, text);
    } catch {
      memoryCart = text;
    }
    showCount(lines);
    // For anything else on the page that cares (the chat widget, say).
    document.dispatchEvent(new CustomEvent("lotus-pine:cart-changed", { detail: { lines } }));
  }

  function quantityOf(lines, sku) {
    const line = lines.find((item) => item.sku === sku);
    return line ? line.qty : 0;
  }

  function showCount(lines) {
    const count = lines.reduce((sum, line) => sum + line.qty, 0);
    for (const node of document.querySelectorAll('[data-testid="cart-count"]')) {
      node.textContent = String(count);
    }
  }

  // ---- catalogue data and formatting ---------------------------------------------------

  function readCatalog() {
    const node = document.getElementById("catalog-data");
    if (!node) return new Map();
    try {
      const products = JSON.parse(node.textContent || "[]");
      return new Map(Array.isArray(products) ? products.map((p) => [p.slug, p]) : []);
    } catch {
      return new Map();
    }
  }

  /** "49.00" -> 4900, in whole cents so totals never pick up floating-point dust. */
  function toCents(price) {
    const [whole, fraction = ""] = String(price).split(".");
    return Number(whole) * 100 + Number((fraction + "00").slice(0, 2));
  }

  function formatMoney(cents, currency) {
    try {
      return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(cents / 100);
    } catch {
      return `${(cents / 100).toFixed(2)} ${currency}`;
    }
  }

  function stockText(stock) {
    if (stock <= 0) return "Sold out";
    if (stock <= 5) return `Only ${stock} left`;
    return `${stock} in stock`;
  }

  /** Placeholder pictures: the hue comes from the product, the pattern from shop.css. */
  function paintArt(root) {
    for (const node of root.querySelectorAll("[data-hue]")) {
      const hue = Number(node.dataset.hue);
      if (Number.isFinite(hue)) node.style.setProperty("--hue", String(hue % 360));
    }
  }

  // ---- product page --------------------------------------------------------------------

  function initProductPage(catalog) {
    const root = document.querySelector("[data-product-page]");
    if (!root) return null;
    const product = catalog.get(root.dataset.slug);
    if (!product) return null;
    const form = root.querySelector('[data-testid="buy-form"]');
    const colorSelect = root.querySelector('[data-testid="color-select"]');
    const sizeSelect = root.querySelector('[data-testid="size-select"]');
    const stockNode = root.querySelector('[data-testid="stock"]');
    const skuNode = root.querySelector('[data-testid="sku"]');
    const button = root.querySelector('[data-testid="add-to-cart"]');
    const status = root.querySelector('[data-testid="cart-status"]');

    const variantFor = (color, size) =>
      product.variants.find((v) => v.color === color && v.size === size);

    function labelOptions() {
      for (const option of colorSelect.options) {
        const any = product.variants.some((v) => v.color === option.value && v.stock > 0);
        option.textContent = any ? option.value : `${option.value} (sold out)`;
      }
      for (const option of sizeSelect.options) {
        const variant = variantFor(colorSelect.value, option.value);
        const available = variant && variant.stock > 0;
        option.textContent = available ? option.value : `${option.value} (sold out)`;
      }
    }

    function update() {
      labelOptions();
      const variant = variantFor(colorSelect.value, sizeSelect.value);
      const stock = variant ? variant.stock : 0;
      const inCart = variant ? quantityOf(readCart(), variant.sku) : 0;
      stockNode.textContent = variant ? stockText(stock) : "Not made in this colour and size";
      stockNode.dataset.stock = String(stock);
      skuNode.textContent = variant ? variant.sku : "—";
      const canAdd = stock > 0 && inCart < Math.min(stock, MAX_QTY);
      button.disabled = !canAdd;
      if (stock <= 0) button.textContent = "Sold out";
      else if (!canAdd) button.textContent = "All in your cart";
      else button.textContent = "Add to cart";
    }

    function onSelect() {
      status.textContent = "";
      update();
    }

    colorSelect.addEventListener("change", onSelect);
    sizeSelect.addEventListener("change", onSelect);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const variant = variantFor(colorSelect.value, sizeSelect.value);
      if (!variant) return;
      const lines = readCart();
      const line = lines.find((item) => item.sku === variant.sku);
      if ((line ? line.qty : 0) >= Math.min(variant.stock, MAX_QTY)) {
        update();
        return;
      }
      if (line) line.qty += 1;
      else
        lines.push({
          slug: product.slug,
          sku: variant.sku,
          qty: 1,
          price: product.price,
          currency: product.currency,
        });
      writeCart(lines);
      track("add_to_cart", {
        product: product.slug,
        quantity: 1,
        price: product.price,
        ...cartFigures(lines),
      });
      status.textContent = `Added to your cart: ${product.name}, ${variant.color}, ${variant.size}.`;
      update();
    });
    update();
    return update;
  }

  // ---- cart page and pretend checkout ----------------------------------------------------

  function initCartPage(catalog) {
    const root = document.querySelector("[data-cart-page]");
    if (!root) return null;
    const list = root.querySelector('[data-testid="cart-items"]');
    const template = document.getElementById("cart-item-template");
    const empty = root.querySelector('[data-testid="cart-empty"]');
    const notice = root.querySelector('[data-testid="cart-notice"]');
    const summary = root.querySelector('[data-testid="cart-summary"]');
    const total = root.querySelector('[data-testid="cart-total"]');
    const checkoutStep = document.querySelector('[data-testid="checkout-step"]');
    const checkoutTotal = document.querySelector('[data-testid="checkout-total"]');
    const checkoutForm = document.querySelector('[data-testid="checkout-form"]');
    const confirmation = document.querySelector('[data-testid="order-confirmation"]');
    let currency = "USD";

    /** Cart lines joined with the catalogue; lines for things no longer sold are dropped. */
    function resolve() {
      const lines = readCart();
      const rows = [];
      let dropped = false;
      for (const line of lines) {
        const product = catalog.get(line.slug);
        const variant = product && product.variants.find((v) => v.sku === line.sku);
        const qty = variant ? Math.min(line.qty, variant.stock) : 0;
        if (qty <= 0) {
          dropped = true;
          continue;
        }
        if (qty !== line.qty) dropped = true;
        rows.push({ product, variant, qty });
      }
      if (dropped) {
        writeCart(
          rows.map((r) => ({
            slug: r.product.slug,
            sku: r.variant.sku,
            qty: r.qty,
            price: r.product.price,
            currency: r.product.currency,
          })),
        );
        notice.textContent =
          "Some items are no longer available in the quantity you chose, so your cart has been updated.";
      }
      return rows;
    }

    function buildRow({ product, variant, qty }) {
      const item = template.content.firstElementChild.cloneNode(true);
      item.dataset.sku = variant.sku;
      const field = (name) => item.querySelector(`[data-field="${name}"]`);
      const art = item.querySelector(".art");
      art.dataset.hue = String(product.image_hue);
      art.classList.add(`art--${product.category}`);
      const link = field("name");
      link.href = `/demo/products/${encodeURIComponent(product.slug)}`;
      link.textContent = product.name;
      field("variant").textContent = `${variant.color} / ${variant.size}`;
      const unit = toCents(product.price);
      field("price").textContent = formatMoney(unit, product.currency);
      field("qty").textContent = String(qty);
      field("line-total").textContent = formatMoney(unit * qty, product.currency);
      const decrease = item.querySelector('[data-action="decrease"]');
      const increase = item.querySelector('[data-action="increase"]');
      decrease.setAttribute("aria-label", `One fewer ${product.name}`);
      increase.setAttribute("aria-label", `One more ${product.name}`);
      increase.disabled = qty >= Math.min(variant.stock, MAX_QTY);
      item
        .querySelector('[data-action="remove"]')
        .setAttribute("aria-label", `Remove ${product.name}, ${variant.color}, ${variant.size}`);
      return item;
    }

    function render() {
      const rows = resolve();
      list.replaceChildren(...rows.map(buildRow));
      paintArt(list);
      const cents = rows.reduce((sum, r) => sum + toCents(r.product.price) * r.qty, 0);
      if (rows.length) currency = rows[0].product.currency;
      total.textContent = formatMoney(cents, currency);
      checkoutTotal.textContent = formatMoney(cents, currency);
      empty.hidden = rows.length > 0;
      summary.hidden = rows.length === 0;
      return rows;
    }

    list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      const item = button && button.closest("[data-sku]");
      if (!item) return;
      const sku = item.dataset.sku;
      const action = button.dataset.action;
      const lines = readCart();
      const line = lines.find((l) => l.sku === sku);
      if (!line) return;
      if (action === "increase") line.qty = Math.min(line.qty + 1, MAX_QTY);
      if (action === "decrease") line.qty -= 1;
      if (action === "remove") line.qty = 0;
      writeCart(lines.filter((l) => l.qty > 0));
      notice.textContent = "";
      render();
      // The row was rebuilt: put focus back where the shopper was, or on the heading.
      const again = list.querySelector(`[data-sku="${CSS.escape(sku)}"] [data-action="${action}"]`);
      if (again && !again.disabled) again.focus();
      else document.getElementById("cart-title").focus();
    });

    function showStep() {
      const hasItems = readCart().length > 0;
      const checkingOut = window.location.hash === "#checkout" && hasItems;
      root.hidden = checkingOut;
      checkoutStep.hidden = !checkingOut;
      confirmation.hidden = true;
      if (checkingOut) track("checkout_started", cartFigures(readCart()));
      return checkingOut;
    }

    summary.querySelector('[data-testid="checkout"]').addEventListener("click", () => {
      window.location.hash = "checkout"; // a real step: the back button returns to the cart
    });
    checkoutForm.querySelector('[data-action="back-to-cart"]').addEventListener("click", () => {
      window.location.hash = "";
    });
    window.addEventListener("hashchange", () => {
      const checkingOut = showStep();
      document.getElementById(checkingOut ? "checkout-title" : "cart-title").focus();
    });
    const checkoutError = document.querySelector('[data-testid="checkout-error"]');
    const placeOrder = checkoutForm.querySelector('[data-testid="place-order"]');

    /** The demo's "payment": Portside stores the order as a shop's webhook would. */
    async function placeDemoOrder() {
      const form = new FormData(checkoutForm);
      const visitor = window.Portside && window.Portside.visitorId ? window.Portside.visitorId() : null;
      const response = await fetch("/demo/checkout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          lines: readCart().map((line) => ({ slug: line.slug, sku: line.sku, qty: line.qty })),
          name: form.get("name"),
          email: form.get("email"),
          country: form.get("country"),
          coupon: form.get("coupon") || null,
          visitor_id: visitor,
        }),
      });
      const answer = await response.json().catch(() => null);
      if (!response.ok) {
        const message = answer && answer.error ? answer.error.message : null;
        throw new Error(message || "The order could not be placed. Please try again.");
      }
      return answer;
    }

    checkoutForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!checkoutForm.reportValidity()) return;
      checkoutError.hidden = true;
      placeOrder.disabled = true;
      let order;
      try {
        order = await placeDemoOrder();
      } catch (error) {
        checkoutError.textContent = error.message;
        checkoutError.hidden = false;
        return;
      } finally {
        placeOrder.disabled = false;
      }
      track("checkout_completed", { order: order.number, value: order.total, currency: order.currency });
      writeCart([]);
      checkoutForm.reset();
      render();
      root.hidden = true;
      checkoutStep.hidden = true;
      confirmation.hidden = false;
      confirmation.querySelector('[data-testid="order-number"]').textContent = order.number;
      confirmation.querySelector('[data-testid="order-total"]').textContent = formatMoney(
        toCents(order.total),
        order.currency,
      );
      history.replaceState(null, "", window.location.pathname);
      document.getElementById("confirmation-title").focus();
    });

    render();
    showStep();
    return render;
  }

  // ---- start -----------------------------------------------------------------------------

  function start() {
    const catalog = readCatalog();
    paintArt(document);
    showCount(readCart());
    const refreshProduct = initProductPage(catalog);
    const refreshCart = initCartPage(catalog);
    // Another tab changed the cart: keep this one honest.
    window.addEventListener("storage", (event) => {
      if (event.key !== null && event.key !== CART_KEY) return;
      showCount(readCart());
      if (refreshProduct) refreshProduct();
      if (refreshCart) refreshCart();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
