// House price estimate page: builds the form from GET model, posts to predict, keeps the last
// few estimates in localStorage. Paths are relative so the page also works under a stage prefix.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const form = $('estimate-form');
  const status = $('status');
  const result = $('result');
  const submitButton = $('estimate-button');

  const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
  const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  const RECENT_KEY = 'amesops.recent.v1';
  const RECENT_MAX = 5;

  // Short labels and topic groups by field name; a field not listed uses its description.
  const GROUPS = ['Location and lot', 'Building', 'Basement', 'Living space', 'Garage', 'Outdoor and extras', 'Sale', 'Other'];
  const LABELS = {
    Neighborhood: ['Neighborhood', 0], MSZoning: ['Zoning', 0], LotArea: ['Lot area', 0],
    LotFrontage: ['Street frontage', 0], Street: ['Street access', 0], Alley: ['Alley access', 0],
    LotShape: ['Lot shape', 0], LandContour: ['Land contour', 0], Utilities: ['Utilities', 0],
    LotConfig: ['Lot configuration', 0], LandSlope: ['Land slope', 0],
    Condition1: ['Nearby roads, rail or parks', 0], Condition2: ['Second nearby condition', 0],
    MSSubClass: ['Dwelling class', 1], BldgType: ['Building type', 1], HouseStyle: ['House style', 1],
    OverallQual: ['Overall quality', 1], OverallCond: ['Overall condition', 1],
    YearBuilt: ['Year built', 1], YearRemodAdd: ['Year remodeled', 1], RoofStyle: ['Roof style', 1],
    RoofMatl: ['Roof material', 1], Exterior1st: ['Exterior covering', 1],
    Exterior2nd: ['Second exterior covering', 1], MasVnrType: ['Masonry veneer', 1],
    MasVnrArea: ['Masonry veneer area', 1], ExterQual: ['Exterior quality', 1],
    ExterCond: ['Exterior condition', 1], Foundation: ['Foundation', 1], Functional: ['Functionality', 1],
    TotalBsmtSF: ['Basement area', 2], BsmtQual: ['Basement height', 2], BsmtCond: ['Basement condition', 2],
    BsmtExposure: ['Basement exposure', 2], BsmtFinType1: ['Basement finish', 2],
    BsmtFinSF1: ['Finished basement area', 2], BsmtFinType2: ['Second basement finish', 2],
    BsmtFinSF2: ['Second finished basement area', 2], BsmtUnfSF: ['Unfinished basement area', 2],
    BsmtFullBath: ['Basement full bathrooms', 2], BsmtHalfBath: ['Basement half bathrooms', 2],
    GrLivArea: ['Living area', 3], '1stFlrSF': ['First floor area', 3], '2ndFlrSF': ['Second floor area', 3],
    LowQualFinSF: ['Low-quality finished area', 3], FullBath: ['Full bathrooms', 3],
    HalfBath: ['Half bathrooms', 3], BedroomAbvGr: ['Bedrooms', 3], KitchenAbvGr: ['Kitchens', 3],
    KitchenQual: ['Kitchen quality', 3], TotRmsAbvGrd: ['Rooms', 3], Fireplaces: ['Fireplaces', 3],
    FireplaceQu: ['Fireplace quality', 3], Heating: ['Heating', 3], HeatingQC: ['Heating quality', 3],
    CentralAir: ['Central air conditioning', 3], Electrical: ['Electrical system', 3],
    GarageCars: ['Garage size', 4], GarageArea: ['Garage area', 4], GarageType: ['Garage location', 4],
    GarageYrBlt: ['Year garage built', 4], GarageFinish: ['Garage interior finish', 4],
    GarageQual: ['Garage quality', 4], GarageCond: ['Garage condition', 4],
    PavedDrive: ['Paved driveway', 5], WoodDeckSF: ['Wood deck area', 5], OpenPorchSF: ['Open porch area', 5],
    EnclosedPorch: ['Enclosed porch area', 5], '3SsnPorch': ['Three-season porch area', 5],
    ScreenPorch: ['Screen porch area', 5], PoolArea: ['Pool area', 5], PoolQC: ['Pool quality', 5],
    Fence: ['Fence', 5], MiscFeature: ['Other feature', 5], MiscVal: ['Value of other feature', 5],
    MoSold: ['Month sold', 6], YrSold: ['Year sold', 6], SaleType: ['Sale type', 6],
    SaleCondition: ['Sale condition', 6],
  };
  // De Cock's words for the 1-10 ratings.
  const RATINGS = ['Very poor', 'Poor', 'Fair', 'Below average', 'Average', 'Above average', 'Good',
    'Very good', 'Excellent', 'Very excellent'];
  const RATED = new Set(['OverallQual', 'OverallCond']);
  const NONE = [['Bsmt', 'No basement'], ['Garage', 'No garage'], ['Fireplace', 'No fireplace'],
    ['Pool', 'No pool'], ['Fence', 'No fence'], ['Alley', 'No alley access']];
  const UNITS = { 'sq ft': 'sq ft', ft: 'ft', $: 'USD' };

  const fields = new Map();
  let model = null;

  // ---- helpers -------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }
  const labelOf = (f) => (LABELS[f.name] || [])[0] || f.description || f.name;
  const groupOf = (f) => { const g = (LABELS[f.name] || [])[1]; return g === undefined ? GROUPS.length - 1 : g; };
  const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  // "1-STORY 1946 & NEWER ALL STYLES" reads better in sentence case.
  const tidy = (s) => (s === s.toUpperCase() && /[A-Z]{3}/.test(s) ? s.charAt(0) + s.slice(1).toLowerCase() : s);
  const noneLabel = (name) => (NONE.find(([prefix]) => name.startsWith(prefix)) || [0, 'None'])[1];
  const isNumeric = (f) => (f.kind === 'integer' || f.kind === 'real') && !RATED.has(f.name);

  function levelText(f, code) {
    if (code === null || code === undefined) return '';
    if (RATED.has(f.name)) {
      const n = Number(code);
      return RATINGS[n - 1] ? `${n} · ${RATINGS[n - 1]}` : String(code);
    }
    if (isNumeric(f)) {
      const unit = f.unit && UNITS[f.unit] ? ` ${UNITS[f.unit]}` : '';
      const x = Number(code);
      if (f.unit === 'year') return String(Math.round(x));
      return number.format(Math.abs(x) >= 10 ? Math.round(x) : x) + unit;
    }
    if (f.na_means_none && code === 'NA') return noneLabel(f.name);
    const wanted = String(code).toLowerCase();
    const level = f.levels.find((l) => l.code.toLowerCase() === wanted);
    return level ? tidy(level.label) : String(code);
  }

  function dateText(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso || 'unknown')
      : date.toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric' });
  }

  // ---- the form ------------------------------------------------------------------------------
  function buildField(f) {
    const id = `f-${f.name}`;
    const hintId = `h-${f.name}`;
    const typical = levelText(f, f.default);
    const field = el('div', { class: 'field', 'data-field': f.name });
    const label = el('label', { for: id, text: labelOf(f) });
    let control;
    if (isNumeric(f)) {
      const integer = f.kind === 'integer';
      control = el('input', {
        id, name: f.name, type: 'number', step: integer ? '1' : 'any',
        inputmode: integer && !(f.min < 0) ? 'numeric' : 'decimal',
        min: f.min ?? undefined, max: f.max ?? undefined,
        placeholder: typical ? `Typical: ${typical.replace(/ (sq ft|ft|USD)$/, '')}` : undefined,
        autocomplete: 'off', 'aria-describedby': hintId,
      });
    } else {
      control = el('select', { id, name: f.name, 'aria-describedby': hintId });
      control.append(el('option', { value: '', text: typical ? `Typical: ${typical}` : 'Not given' }));
      control.classList.add('unset');
      if (f.na_means_none) control.append(el('option', { value: 'NA', text: noneLabel(f.name) }));
      let levels = RATED.has(f.name)
        ? RATINGS.map((_, i) => [String(i + 1), levelText(f, i + 1)])
        : f.levels.map((l) => [l.code, tidy(l.label)]);
      if (f.kind === 'ordinal' || RATED.has(f.name)) levels = levels.reverse();
      else if (levels.length > 3) levels.sort((a, b) => a[1].localeCompare(b[1]));
      for (const [code, text] of levels) control.append(el('option', { value: code, text }));
    }
    const box = el('div', { class: 'control' }, control);
    if (isNumeric(f) && UNITS[f.unit]) {
      box.classList.add('has-unit');
      box.append(el('span', { class: 'unit', 'aria-hidden': 'true', text: UNITS[f.unit] }));
      label.append(el('span', { class: 'sr-only', text: ` (${f.unit === '$' ? 'dollars' : f.unit === 'ft' ? 'feet' : 'square feet'})` }));
    }
    const range = isNumeric(f) && f.min !== null && f.max !== null ? ` (${f.min}–${f.max})` : '';
    let description = String(f.description || '').replace(/\s*\(map available\)/, '').replace(/\.$/, '');
    if (description.toLowerCase() === labelOf(f).toLowerCase()) description = '';
    field.append(label, box, el('p', { class: 'hint', id: hintId, text: (description + range).trim() }),
      el('p', { class: 'error', id: `e-${f.name}`, hidden: true }));
    fields.set(f.name, { info: f, control, field });
    return field;
  }

  function buildForm(doc) {
    model = doc;
    const keys = new Set((form.dataset.keyFields || '').split(',').filter((k) => /^\w+$/.test(k)));
    const keyGrid = $('key-fields');
    const groups = GROUPS.map(() => []);
    for (const f of doc.fields || []) {
      if (keys.has(f.name)) keyGrid.append(buildField(f));
      else groups[groupOf(f)].push(buildField(f));
    }
    const others = $('other-fields');
    let count = 0;
    groups.forEach((items, i) => {
      if (!items.length) return;
      count += items.length;
      others.append(el('fieldset', {}, el('legend', { text: GROUPS[i] }), el('div', { class: 'grid' }, ...items)));
    });
    $('all-count').textContent = `(${count} more)`;
    $('all-fields').hidden = count === 0;
    form.hidden = false;
    status.textContent = '';
    const overall = (doc.metrics && doc.metrics.cv && doc.metrics.cv.overall) || {};
    const parts = [`Model ${doc.id}`, `trained ${dateText(doc.trained_at)}`];
    if (doc.metrics && doc.metrics.rows) parts.push(`on ${number.format(doc.metrics.rows)} sales`);
    if (typeof overall.mape === 'number') parts.push(`typical error ${overall.mape.toFixed(1)} % (cross-validated)`);
    $('model-line').textContent = parts.join(' · ');
    renderRecent();
  }

  async function loadModel() {
    status.textContent = 'Loading the model’s fields…';
    try {
      const response = await fetch('model', { headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      buildForm(await response.json());
    } catch (error) {
      const retry = el('button', { type: 'button', class: 'button secondary small', text: 'Try again' });
      retry.addEventListener('click', () => { status.replaceChildren(); loadModel(); });
      status.replaceChildren(el('div', { class: 'alert' },
        el('p', { text: `The form could not be loaded: ${error.message}.` }), retry));
    }
  }

  function collect() {
    const house = {};
    const bad = [];
    for (const [name, { info, control }] of fields) {
      if (control.tagName === 'INPUT') {
        if (control.validity.badInput) bad.push({ field: name, problem: 'enter a number' });
        else if (control.value.trim() !== '') house[name] = control.valueAsNumber;
      } else if (control.value !== '') {
        house[name] = RATED.has(name) || (info.kind === 'integer' && control.value !== 'NA')
          ? Number(control.value) : control.value;
      }
    }
    return { house, bad };
  }

  // ---- errors --------------------------------------------------------------------------------
  function clearFieldError(name) {
    const entry = fields.get(name);
    if (!entry) return;
    entry.field.classList.remove('invalid');
    entry.control.removeAttribute('aria-invalid');
    entry.control.setAttribute('aria-describedby', `h-${name}`);
    const message = $(`e-${name}`);
    message.hidden = true;
    message.textContent = '';
  }

  function clearErrors() {
    for (const name of fields.keys()) clearFieldError(name);
  }

  function reveal(name) {
    const entry = fields.get(name);
    if (!entry) return;
    const details = entry.field.closest('details');
    if (details) details.open = true;
    entry.control.focus();
  }

  // Marks each named field and returns the problems that name no field on the form.
  function markFields(problems) {
    const loose = [];
    for (const p of problems) {
      const entry = fields.get(p.field);
      if (!entry) { loose.push(p); continue; }
      entry.field.classList.add('invalid');
      entry.control.setAttribute('aria-invalid', 'true');
      entry.control.setAttribute('aria-describedby', `e-${p.field} h-${p.field}`);
      const message = $(`e-${p.field}`);
      message.textContent = capital(p.problem);
      message.hidden = false;
    }
    return loose;
  }

  function showFieldProblems(problems, heading) {
    const loose = markFields(problems);
    const list = el('ul', {});
    for (const p of problems) {
      const entry = fields.get(p.field);
      if (entry) {
        const link = el('a', { href: `#f-${p.field}`, text: `${labelOf(entry.info)}: ${p.problem}` });
        link.addEventListener('click', (event) => { event.preventDefault(); reveal(p.field); });
        list.append(el('li', {}, link));
      } else {
        list.append(el('li', { text: `${p.field}: ${p.problem}` }));
      }
    }
    result.replaceChildren(el('div', { class: 'alert', 'data-kind': 'fields' }, el('h3', { text: heading }), list));
    // Focus the first field in error, in the order the form shows them.
    const marked = problems.filter((p) => fields.has(p.field) && !loose.includes(p))
      .map((p) => fields.get(p.field).control)
      .sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    if (marked.length) reveal(marked[0].name);
  }

  function showProblem(title, message) {
    result.replaceChildren(el('div', { class: 'alert' }, el('h3', { text: title }), el('p', { text: message })));
  }

  // ---- the estimate --------------------------------------------------------------------------
  function showEstimate(reply, house) {
    const { low, high } = reply.interval || {};
    const level = Math.round(((reply.interval && reply.interval.level) || 0.8) * 100);
    const band = el('div', { class: 'band', 'aria-hidden': 'true' });
    const marker = el('span', {});
    const share = high > low ? (reply.price - low) / (high - low) : 0.5;
    marker.style.left = `calc(${(Math.min(Math.max(share, 0), 1) * 100).toFixed(1)}% - 2px)`;
    band.append(marker);
    const given = Object.keys(house).length;
    const imputed = Array.isArray(reply.imputed) ? reply.imputed : [];
    const total = fields.size || given + imputed.length;
    const children = [
      el('p', { class: 'price-label', text: 'Estimated price' }),
      el('p', { class: 'price', id: 'price', 'data-price': reply.price, text: money.format(reply.price) }),
      el('p', { class: 'range', id: 'interval' }, `${level}% likely between `,
        el('strong', { text: money.format(low) }), ' and ', el('strong', { text: money.format(high) }), '.'),
      band,
      el('div', { class: 'band-ends', 'aria-hidden': 'true' }, el('span', { text: money.format(low) }), el('span', { text: money.format(high) })),
      el('dl', { class: 'facts' },
        el('dt', { text: 'Model' }), el('dd', {}, el('code', { id: 'model-id', text: reply.model && reply.model.id })),
        el('dt', { text: 'Trained' }), el('dd', { id: 'trained-at', text: dateText(reply.model && reply.model.trained_at) }),
        el('dt', { text: 'Fields given' }), el('dd', { text: `${given} of ${total}` })),
    ];
    if (imputed.length) {
      const names = imputed.map((name) => (fields.has(name) ? labelOf(fields.get(name).info) : name));
      children.push(el('div', { class: 'note', id: 'imputed' },
        el('p', { text: given ? `The model filled in the other ${imputed.length} fields with typical values.`
          : `No fields given: all ${imputed.length} were filled in with typical values.` }),
        el('details', {}, el('summary', { text: 'Which fields' }), el('p', { text: names.join(', ') }))));
    }
    if (Array.isArray(reply.unknown_levels) && reply.unknown_levels.length) {
      children.push(el('p', { class: 'note warn', text: `Not seen in training, so priced as none of the known values: ${reply.unknown_levels.join(', ')}.` }));
    }
    if (reply.stored === false) {
      children.push(el('p', { class: 'note warn', text: 'This estimate could not be recorded on the server.' }));
    }
    children.push(...explanationPart(reply), ...comparablesPart(reply), whatIfPart(reply, house));
    result.replaceChildren(...children);
  }

  // ---- why, compared with what, what if ------------------------------------------------------
  // Engineered features by their name in the explanation: [label, unit].
  const DERIVED = {
    TotalSF: ['Total floor area', 'sq ft'], TotalBaths: ['Bathrooms in all', ''],
    TotalPorchSF: ['Porch and deck area', 'sq ft'], HouseAge: ['Age at sale', 'years'],
    RemodAge: ['Years since remodeling', 'years'], QualLivArea: ['Quality × living area', ''],
    QualCond: ['Quality × condition', ''], Has2ndFloor: ['Second floor', '?'], HasGarage: ['Garage', '?'],
    HasBasement: ['Basement', '?'], HasFireplace: ['Fireplace', '?'], HasPool: ['Pool', '?'],
    Remodeled: ['Remodeled', '?'], NewHouse: ['Sold new', '?'],
  };
  const percentText = (p) => `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(Math.abs(p) < 10 ? 1 : 0)} %`;
  function contributionText(c) {
    const f = fields.get(c.feature);
    if (f) return `${labelOf(f.info)} ${levelText(f.info, c.value)}: ${percentText(c.percent)}`;
    const [label, unit] = DERIVED[c.feature] || [c.feature, ''];
    const value = unit === '?' ? (Number(c.value) ? 'yes' : 'no')
      : `${number.format(Math.round(Number(c.value) * 10) / 10)}${unit ? ` ${unit}` : ''}`;
    return `${label} ${value}: ${percentText(c.percent)}`;
  }

  function explanationPart(reply) {
    const e = reply.explanation;
    if (!e || !Array.isArray(e.contributions) || !e.contributions.length) return [];
    const top = e.contributions.slice(0, 6);
    const rest = e.contributions.length - top.length;
    return [el('div', { class: 'why', id: 'explanation' },
      el('h3', { text: 'Why this price' }),
      el('p', { class: 'muted', text: `From ${money.format(Math.exp(e.base_log))}, the average house sold in Ames, the largest effects:` }),
      el('ul', { class: 'effects' }, ...top.map((c) => el('li', { class: c.log >= 0 ? 'up' : 'down', text: contributionText(c) }))),
      rest > 0 ? el('p', { class: 'muted', text: `${rest} smaller effects make up the rest.` }) : null)];
  }

  function comparablesPart(reply) {
    const comps = Array.isArray(reply.comparables) ? reply.comparables : [];
    if (!comps.length) return [];
    const head = ['Sale', 'Sq ft', 'Quality', 'Sold for', 'Adjusted'];
    return [el('div', { class: 'comps', id: 'comparables' },
      el('h3', { text: 'Comparable sales' }),
      el('p', { class: 'muted', text: `The most similar sales${comps.every((c) => c.neighborhood === comps[0].neighborhood) ? ` in ${levelText((fields.get('Neighborhood') || { info: { levels: [] } }).info, comps[0].neighborhood)}` : ''}, each price adjusted to this house by the model.` }),
      el('div', { class: 'table-wrap' }, el('table', {},
        el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, ...comps.map((c) => el('tr', { 'data-id': c.id },
          el('td', {}, `#${c.id}`, el('span', { class: 'sub', text: c.sold })),
          el('td', { text: number.format(c.GrLivArea) }),
          el('td', { text: String(c.OverallQual) }),
          el('td', { text: money.format(c.sale_price) }),
          el('td', { text: money.format(c.adjusted_price) })))))))];
  }

  // Four fields an agent is asked about, re-priced as they are typed (one request per pause).
  const WHAT_IF = [['GrLivArea', 'Living area (sq ft)', 300, 6000, 10], ['OverallQual', 'Overall quality (1–10)', 1, 10, 1],
    ['GarageCars', 'Garage (cars)', 0, 5, 1], ['YearRemodAdd', 'Renovated in (year)', 1950, 2030, 1]];
  let whatIfTimer = null;
  let whatIfAbort = null;
  function whatIfPart(reply, house) {
    const out = el('p', { class: 'what-if-out', id: 'what-if-result', role: 'status', 'aria-live': 'polite' });
    const inputs = WHAT_IF.map(([name, label, min, max, step]) => {
      const f = fields.get(name);
      const start = house[name] !== undefined ? house[name] : f && f.info.default;
      const input = el('input', { id: `wi-${name}`, name, type: 'number', inputmode: 'numeric', min, max, step,
        value: start === undefined || start === null ? '' : Math.round(Number(start)) });
      return [name, input, el('div', { class: 'wi-field' }, el('label', { for: `wi-${name}`, text: label }), input)];
    });
    const panel = el('form', { class: 'what-if', id: 'what-if', novalidate: true, 'aria-labelledby': 'what-if-title' },
      el('h3', { id: 'what-if-title', text: 'What if' }),
      el('div', { class: 'wi-grid' }, ...inputs.map(([, , box]) => box)), out);
    const ask = async () => {
      const changed = { ...house };
      for (const [name, input] of inputs) {
        if (input.value.trim() !== '') changed[name] = Number(input.value);
      }
      if (whatIfAbort) whatIfAbort.abort();
      whatIfAbort = new AbortController();
      out.textContent = 'Pricing…';
      try {
        const response = await fetch('predict', {
          method: 'POST', signal: whatIfAbort.signal,
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(changed),
        });
        const next = await response.json();
        if (response.ok && typeof next.price === 'number') {
          const diff = next.price - reply.price;
          out.replaceChildren(el('strong', { id: 'what-if-price', 'data-price': next.price, text: money.format(next.price) }),
            ` ${diff >= 0 ? '+' : '−'}${money.format(Math.abs(diff))} (${percentText((diff / reply.price) * 100)}) against ${money.format(reply.price)}`);
        } else {
          const problem = next && next.error && Array.isArray(next.error.fields) && next.error.fields[0];
          out.textContent = problem ? `${problem.field}: ${problem.problem}` : 'No price for these values.';
        }
      } catch (error) {
        if (error.name !== 'AbortError') out.textContent = 'The server could not be reached.';
      }
    };
    panel.addEventListener('input', () => {
      clearTimeout(whatIfTimer);
      whatIfTimer = setTimeout(ask, 300);
    });
    panel.addEventListener('submit', (event) => { event.preventDefault(); clearTimeout(whatIfTimer); ask(); });
    return panel;
  }

  async function estimate(event) {
    event.preventDefault();
    clearErrors();
    const { house, bad } = collect();
    if (bad.length) {
      showFieldProblems(bad, bad.length === 1 ? 'Check this field' : `Check these ${bad.length} fields`);
      return;
    }
    submitButton.disabled = true;
    submitButton.textContent = 'Estimating…';
    result.setAttribute('aria-busy', 'true');
    try {
      const response = await fetch('predict', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(house),
      });
      let reply = null;
      try { reply = await response.json(); } catch (_) { reply = null; }
      if (response.ok && reply && typeof reply.price === 'number') {
        showEstimate(reply, house);
        remember(reply, house);
        const panel = result.closest('section');
        const box = panel.getBoundingClientRect();
        if (box.top < 0 || box.top > window.innerHeight - 120) panel.scrollIntoView({ block: 'start' });
      } else if (reply && reply.error && Array.isArray(reply.error.fields) && reply.error.fields.length) {
        const n = reply.error.fields.length;
        showFieldProblems(reply.error.fields, n === 1 ? 'Check this field' : `Check these ${n} fields`);
      } else if (reply && reply.error) {
        showProblem('No estimate', reply.error.message || reply.error.code);
      } else {
        showProblem('No estimate', `The server answered ${response.status} ${response.statusText}.`);
      }
    } catch (_) {
      showProblem('No estimate', 'The server could not be reached. Check the connection and try again.');
    } finally {
      result.removeAttribute('aria-busy');
      submitButton.disabled = false;
      submitButton.textContent = 'Estimate price';
    }
  }

  // ---- recent estimates ----------------------------------------------------------------------
  function loadRecent() {
    try {
      const list = JSON.parse(localStorage.getItem(RECENT_KEY) || '[]');
      return Array.isArray(list) ? list.filter((r) => r && typeof r.price === 'number') : [];
    } catch (_) {
      return [];
    }
  }

  function saveRecent(list) {
    try {
      if (list.length) localStorage.setItem(RECENT_KEY, JSON.stringify(list));
      else localStorage.removeItem(RECENT_KEY);
    } catch (_) { /* storage unavailable: the list lives for this page only */ }
  }

  function describe(house) {
    const parts = [];
    const text = (name) => (fields.has(name) ? levelText(fields.get(name).info, house[name]) : String(house[name]));
    if ('Neighborhood' in house) parts.push(text('Neighborhood'));
    if ('OverallQual' in house) parts.push(`quality ${house.OverallQual}`);
    if ('GrLivArea' in house) parts.push(`${number.format(house.GrLivArea)} sq ft`);
    if ('YearBuilt' in house) parts.push(`built ${house.YearBuilt}`);
    const n = Object.keys(house).length;
    if (!parts.length) return n ? `${n} field${n === 1 ? '' : 's'} given` : 'typical house';
    return parts.join(' · ');
  }

  function remember(reply, house) {
    const entry = {
      at: new Date().toISOString(), price: reply.price,
      low: reply.interval && reply.interval.low, high: reply.interval && reply.interval.high,
      model: reply.model && reply.model.id, house,
    };
    saveRecent([entry, ...loadRecent()].slice(0, RECENT_MAX));
    renderRecent();
  }

  function fill(house) {
    form.reset();
    clearErrors();
    for (const [name, value] of Object.entries(house || {})) {
      const entry = fields.get(name);
      if (entry) entry.control.value = String(value);
      if (entry && entry.field.closest('details')) $('all-fields').open = true;
    }
    markUnset();
    $('form-title').focus();
  }

  function renderRecent() {
    const list = loadRecent();
    const items = list.map((r, i) => {
      const when = new Date(r.at);
      const time = Number.isNaN(when.getTime()) ? '' : ` · ${when.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit' })}`;
      const what = describe(r.house || {});
      const load = el('button', { type: 'button', class: 'button secondary small', text: 'Load',
        'aria-label': `Load estimate ${i + 1} into the form: ${money.format(r.price)}, ${what}` });
      load.addEventListener('click', () => fill(r.house));
      return el('li', {},
        el('span', { class: 'r-price', text: money.format(r.price) }),
        el('span', { class: 'r-what', text: what + time }),
        load);
    });
    $('recent').replaceChildren(...items);
    $('recent-empty').hidden = items.length > 0;
    $('clear-recent').hidden = items.length === 0;
  }

  // Selects left at "Typical" look like placeholders.
  function markUnset() {
    for (const { control } of fields.values()) {
      if (control.tagName === 'SELECT') control.classList.toggle('unset', control.value === '');
    }
  }

  // ---- wiring --------------------------------------------------------------------------------
  form.addEventListener('submit', estimate);
  form.addEventListener('reset', () => clearErrors());
  form.addEventListener('input', (event) => {
    if (event.target && event.target.name) clearFieldError(event.target.name);
  });
  form.addEventListener('change', markUnset);
  form.addEventListener('reset', () => setTimeout(markUnset));
  $('clear-recent').addEventListener('click', () => {
    saveRecent([]);
    renderRecent();
    $('recent-title').setAttribute('tabindex', '-1');
    $('recent-title').focus();
  });
  window.addEventListener('storage', (event) => { if (event.key === RECENT_KEY) renderRecent(); });

  renderRecent();
  loadModel();
})();
