/*
 * The auditor page: plain JavaScript over planapi's GraphQL API. No framework, no build step.
 *
 * Every value from the server is inserted as text (text nodes, `textContent`, attributes set
 * with `setAttribute`), never parsed as HTML.
 *
 * URL parameters preselect what a person would click, and run the same handlers:
 *   ?plan=ID     the plan to audit (default: the first listed)
 *   &from=N&to=M press "Compare" on versions N and M (shows their differences)
 *   &verify=1    press "Verify integrity"
 * The page keeps `plan`, `from` and `to` in the address as the auditor picks them, so the view
 * can be shared as a link. `body[data-state]` becomes "ready" once everything asked is shown.
 */
"use strict";

(() => {
  const PAGE_SIZE = 20;

  const NODE_FIELDS = `fragment AuditNode on PlanNode { nodeId kind code title }`;

  const QUERIES = {
    plans: `query AuditPlans {
      plans { planId title version recordedAt period { label } }
    }`,
    plan: `query AuditPlan($id: ID!, $version: Int, $first: Int!, $after: String) {
      plan(id: $id, version: $version) {
        planId title description version recordedAt hash period { label }
        amendments(first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          nodes {
            version recordedAt actor authority rationale reference effectiveFrom hash
            changes { __typename ... on TextTranslated { lang } }
          }
        }
      }
    }`,
    diff: `query AuditDiff($id: ID!, $from: Int!, $to: Int!) {
      planDiff(id: $id, fromVersion: $from, toVersion: $to) {
        planId fromVersion toVersion
        added { ...AuditNode parent { ...AuditNode } }
        removed { ...AuditNode parent { ...AuditNode } }
        moved {
          node { ...AuditNode }
          fromParent { ...AuditNode }
          toParent { ...AuditNode }
          fromPosition toPosition
        }
        changed { node { ...AuditNode } fields { field before after } }
        linksAdded { relation from { ...AuditNode } to { ...AuditNode } }
        linksRemoved { relation from { ...AuditNode } to { ...AuditNode } }
      }
    }
    ${NODE_FIELDS}`,
    proposals: `query AuditProposals($id: ID!) {
      proposals(planId: $id) {
        proposalId title status author authority rationale revision baseVersion openedAt
        closedBy closedAt reason
        reviews { reviewer authority verdict text revision nodeId recordedAt }
        conflicts { nodeId field message }
        adoptedAs { version }
        diff {
          planId fromVersion toVersion
          added { ...AuditNode parent { ...AuditNode } }
          removed { ...AuditNode parent { ...AuditNode } }
          moved {
            node { ...AuditNode }
            fromParent { ...AuditNode }
            toParent { ...AuditNode }
            fromPosition toPosition
          }
          changed { node { ...AuditNode } fields { field before after } }
          linksAdded { relation from { ...AuditNode } to { ...AuditNode } }
          linksRemoved { relation from { ...AuditNode } to { ...AuditNode } }
        }
      }
    }
    ${NODE_FIELDS}`,
    verify: `query AuditVerify($id: ID!) {
      verifyIntegrity(planId: $id) {
        planId ok checked headVersion headHash checkedAt
        firstBreak { version what detail }
        problems { what version nodeId detail }
      }
    }`,
  };

  const KINDS = {
    PRIORITY: "Priority",
    OUTCOME: "Outcome",
    KPI: "KPI",
    OUTPUT: "Output",
    ENABLER: "Enabler",
    REGIONAL_INITIATIVE: "Regional initiative",
    PROJECT: "Project",
    RESOLUTION: "Resolution",
    STUDY_GROUP: "Study group",
    QUESTION: "Question",
    SECTION: "Section",
    TERM: "Term",
  };

  const CHANGES = {
    NodeAdded: "added",
    NodeUpdated: "updated",
    NodeRemoved: "removed",
    NodeMoved: "moved",
    NodesLinked: "linked",
    NodesUnlinked: "unlinked",
    LanguagesDeclared: "languages declared",
  };

  const BREAKS = {
    altered: "the content recorded for this version was altered after it was written",
    inserted: "an event was inserted into the history here",
    removed: "an event was removed from the history here",
    reordered: "the history's events are out of order here",
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    pageErrors: $("page-errors"),
    select: $("plan-select"),
    form: $("plan-form"),
    summary: $("plan-summary"),
    timeline: $("timeline"),
    timelineStatus: $("timeline-status"),
    more: $("timeline-more"),
    selection: $("selection"),
    clear: $("selection-clear"),
    diffStatus: $("diff-status"),
    diff: $("diff"),
    verify: $("verify-button"),
    verifyResult: $("verify-result"),
    checkpoint: $("checkpoint-latest"),
    checkpointSaved: $("checkpoint-saved"),
    checkpointCheck: $("checkpoint-check"),
    checkpointResult: $("checkpoint-result"),
    proposals: $("proposals"),
  };
  // Without any user:password@ the page was opened with: fetch refuses URLs that carry them,
  // and the browser sends the Basic credentials it was given for this server by itself.
  const endpointUrl = new URL(document.body.dataset.graphql || "graphql", document.baseURI);
  endpointUrl.username = "";
  endpointUrl.password = "";
  const endpoint = endpointUrl.href;

  const state = {
    planId: null,
    planTitle: "",
    version: null, // the version the timeline is read at, so paging stays consistent
    cursor: null,
    shown: 0,
    total: 0,
    selected: [], // at most two versions, in the order they were picked
    requests: { plan: 0, more: 0, diff: 0, verify: 0, proposals: 0 },
  };

  // ---------------------------------------------------------------- DOM, safely

  /** An element; strings among the children become text nodes, never markup. */
  function h(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    put(node, children);
    return node;
  }

  function put(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function plural(count, one, many) {
    return `${count} ${count === 1 ? one : many || `${one}s`}`;
  }

  function kindName(kind) {
    if (KINDS[kind]) return KINDS[kind];
    const words = String(kind || "node").toLowerCase().replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function authorityName(authority) {
    return authority === "COUNCIL"
      ? "Council"
      : authority === "PLENIPOTENTIARY"
        ? "Plenipotentiary Conference"
        : String(authority);
  }

  function instant(iso) {
    const date = new Date(iso);
    const text = Number.isNaN(date.getTime())
      ? String(iso)
      : `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
    return h("time", { datetime: iso, title: iso }, text);
  }

  function hash(value) {
    return value ? h("code", { class: "hash" }, value) : h("em", {}, "none");
  }

  /** "Outcome 1.2: Broadband for all (outcome-broadband)". */
  function nodeLabel(node) {
    if (!node) return h("span", { class: "node" }, "the plan itself (top level)");
    return h(
      "span",
      { class: "node" },
      h("span", { class: "kind" }, kindName(node.kind)),
      node.code ? [" ", h("span", { class: "code" }, node.code)] : null,
      ": ",
      h("span", { class: "title" }, node.title),
      " ",
      h("span", { class: "id" }, "(", h("code", {}, node.nodeId), ")"),
    );
  }

  /** A field's JSON value as text: lists joined, targets as "period: value". */
  function valueText(value) {
    if (value === null || value === undefined) return null;
    if (Array.isArray(value)) return value.map(valueText).join("; ");
    if (typeof value === "object") {
      if ("period" in value && "value" in value) return `${value.period}: ${value.value}`;
      if ("vocabulary" in value && "code" in value) return `${value.vocabulary} ${value.code}`;
      if ("name" in value && Array.isArray(value.values)) {
        return `${value.name} (${value.values.join(", ")})`;
      }
      return JSON.stringify(value);
    }
    return String(value);
  }

  function value(raw, tag) {
    const text = valueText(raw);
    if (text === null) return h(tag, { class: "value none" }, h("em", {}, "(none)"));
    if (text === "") return h(tag, { class: "value none" }, h("em", {}, "(empty)"));
    return h(tag, { class: "value" }, text);
  }

  // ---------------------------------------------------------------- regions

  function busy(region, message) {
    region.dataset.state = "loading";
    region.setAttribute("aria-busy", "true");
    region.replaceChildren(h("p", { class: "loading" }, message));
  }

  function done(region, ...children) {
    region.dataset.state = "done";
    region.removeAttribute("aria-busy");
    region.replaceChildren();
    put(region, children);
  }

  function idle(region, ...children) {
    region.dataset.state = "idle";
    region.removeAttribute("aria-busy");
    region.replaceChildren();
    put(region, children);
  }

  function failure(what, error) {
    return h("p", { class: "error", role: "alert" }, h("strong", {}, `${what}. `), messageOf(error));
  }

  function failed(region, what, error) {
    region.dataset.state = "error";
    region.removeAttribute("aria-busy");
    region.replaceChildren(failure(what, error));
  }

  function messageOf(error) {
    if (error instanceof ApiError) return error.message;
    return `Unexpected error in the page: ${error && error.message ? error.message : error}`;
  }

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {}

  async function graphql(query, variables) {
    let response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ query, variables: variables || {} }),
        credentials: "same-origin",
      });
    } catch (error) {
      throw new ApiError(
        `Network error: the server at ${endpoint} could not be reached (${error.message}).`,
      );
    }
    const requestId = response.headers.get("x-request-id");
    const suffix = requestId ? ` (request id ${requestId})` : "";
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (body && Array.isArray(body.errors) && body.errors.length > 0) {
      const messages = body.errors.map((e) => (e && e.message ? String(e.message) : "unknown"));
      throw new ApiError(`The server reported: ${messages.join("; ")}${suffix}.`);
    }
    if (!response.ok) {
      throw new ApiError(
        `The server answered HTTP ${response.status} ${response.statusText}${suffix}.`,
      );
    }
    if (!body || typeof body.data !== "object" || body.data === null) {
      throw new ApiError(`The server's answer was not a GraphQL response${suffix}.`);
    }
    return body.data;
  }

  // ---------------------------------------------------------------- checkpoints

  function logUrl(path) {
    const url = new URL(path, endpointUrl);
    return url.href;
  }

  async function loadCheckpoint() {
    const response = await fetch(logUrl("log/checkpoint"), { credentials: "same-origin" });
    ui.checkpoint.dataset.state = response.ok ? "done" : "empty";
    ui.checkpoint.textContent = response.ok
      ? await response.text()
      : "No signed checkpoint yet.";
  }

  async function checkCheckpoint() {
    ui.checkpointResult.textContent = "Checking…";
    const response = await fetch(logUrl("log/check"), {
      method: "POST",
      headers: { "Content-Type": "text/plain; charset=utf-8" },
      body: ui.checkpointSaved.value,
      credentials: "same-origin",
    });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    ui.checkpointResult.dataset.ok = body && body.ok ? "true" : "false";
    ui.checkpointResult.textContent =
      body && body.message ? body.message : `The server answered HTTP ${response.status}.`;
  }

  // ---------------------------------------------------------------- plans

  async function loadPlans(wanted) {
    busy(ui.summary, "Loading plans…");
    let plans;
    try {
      plans = (await graphql(QUERIES.plans)).plans;
    } catch (error) {
      ui.select.replaceChildren(h("option", { value: "" }, "No plans available"));
      failed(ui.summary, "Could not list the plans", error);
      return null;
    }
    ui.select.replaceChildren();
    put(ui.select, [
      h("option", { value: "" }, plans.length ? "Choose a plan…" : "There are no plans"),
      plans.map((plan) =>
        h(
          "option",
          { value: plan.planId },
          `${plan.title} (${plan.period.label}) — version ${plan.version}`,
        ),
      ),
    ]);
    ui.select.disabled = plans.length === 0;
    if (plans.length === 0) {
      done(ui.summary, h("p", {}, "There are no plans yet."));
      return null;
    }
    if (wanted && !plans.some((plan) => plan.planId === wanted)) {
      failed(
        ui.summary,
        "Could not open the plan",
        new ApiError(`There is no plan with id "${wanted}": choose one from the list.`),
      );
      return null;
    }
    const chosen = wanted || plans[0].planId;
    ui.select.value = chosen;
    return chosen;
  }

  async function loadPlan(planId) {
    const request = ++state.requests.plan;
    state.requests.more++;
    Object.assign(state, { planId, planTitle: "", version: null, cursor: null, shown: 0 });
    state.total = 0;
    state.selected = [];
    ui.verify.disabled = true;
    ui.more.hidden = true;
    ui.timelineStatus.replaceChildren();
    idle(ui.verifyResult);
    await applySelection();
    if (!planId) {
      idle(ui.summary);
      idle(ui.timeline);
      return;
    }
    busy(ui.summary, "Loading the plan…");
    busy(ui.timeline, "Loading amendments…");
    let plan;
    try {
      plan = (await graphql(QUERIES.plan, { id: planId, first: PAGE_SIZE })).plan;
      if (!plan) throw new ApiError(`There is no plan with id "${planId}".`);
    } catch (error) {
      if (request !== state.requests.plan) return;
      failed(ui.summary, "Could not load the plan", error);
      idle(ui.timeline);
      return;
    }
    if (request !== state.requests.plan) return;
    state.planTitle = plan.title;
    state.version = plan.version;
    done(ui.summary, summary(plan));
    done(ui.timeline, timelineTable(plan));
    addRows(plan.amendments);
    ui.verify.disabled = false;
    remember();
    await loadProposals(planId);
  }

  // ---------------------------------------------------------------- proposals

  async function loadProposals(planId) {
    const request = ++state.requests.proposals;
    busy(ui.proposals, "Loading proposals…");
    let found;
    try {
      found = (await graphql(QUERIES.proposals, { id: planId })).proposals;
    } catch (error) {
      if (request === state.requests.proposals) failed(ui.proposals, "Could not load proposals", error);
      return;
    }
    if (request !== state.requests.proposals) return;
    if (found.length === 0) {
      done(ui.proposals, h("p", { class: "empty" }, "No proposals for this plan."));
      return;
    }
    done(ui.proposals, found.map(proposalView));
  }

  function proposalView(proposal) {
    const outcome = proposal.adoptedAs
      ? `adopted as version ${proposal.adoptedAs.version} by ${proposal.closedBy}`
      : proposal.closedBy
        ? `${proposal.status.toLowerCase()} by ${proposal.closedBy}` +
          (proposal.reason ? `: ${proposal.reason}` : "")
        : "open";
    return h(
      "article",
      { class: "proposal", "data-proposal": proposal.proposalId },
      h("h3", {}, `${proposal.proposalId}: ${proposal.title}`),
      h(
        "p",
        { class: "facts" },
        `Proposed by ${proposal.author} for ${authorityName(proposal.authority)}, `,
        instant(proposal.openedAt),
        ` — revision ${proposal.revision} on version ${proposal.baseVersion}; ${outcome}.`,
      ),
      h("p", {}, proposal.rationale),
      h("h4", {}, plural(proposal.reviews.length, "review", "reviews")),
      h(
        "ul",
        { class: "reviews" },
        proposal.reviews.map((review) =>
          h(
            "li",
            { "data-verdict": review.verdict },
            h("strong", {}, review.verdict.replace(/_/g, " ").toLowerCase()),
            ` by ${review.reviewer} (${authorityName(review.authority)}) on revision `,
            `${review.revision}`,
            review.nodeId ? [" at ", h("code", {}, review.nodeId)] : "",
            review.text ? [": ", review.text] : "",
          ),
        ),
      ),
      proposal.conflicts.length
        ? h(
            "ul",
            { class: "conflicts" },
            proposal.conflicts.map((c) =>
              h("li", {}, h("code", {}, `${c.nodeId || "—"}.${c.field || "—"}`), " ", c.message),
            ),
          )
        : null,
      proposal.diff ? withoutIds(renderDiff(proposal.diff)) : null,
    );
  }

  /** The diff view again, inside a proposal: its ids belong to the page's own diff section. */
  function withoutIds(nodes) {
    for (const node of [nodes].flat(Infinity)) {
      if (!(node instanceof Element)) continue;
      for (const element of [node, ...node.querySelectorAll("[id], [aria-labelledby]")]) {
        element.removeAttribute("id");
        element.removeAttribute("aria-labelledby");
      }
    }
    return nodes;
  }

  function summary(plan) {
    return [
      h("h3", {}, plan.title),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Id"),
        h("dd", {}, h("code", {}, plan.planId)),
        h("dt", {}, "Period"),
        h("dd", {}, plan.period.label),
        h("dt", {}, "Latest version"),
        h("dd", {}, String(plan.version), ", recorded ", instant(plan.recordedAt)),
        h("dt", {}, `Hash of version ${plan.version}`),
        h("dd", {}, hash(plan.hash)),
      ),
    ];
  }

  // ---------------------------------------------------------------- the timeline

  function timelineTable(plan) {
    const columns = [
      "Version",
      "Recorded (UTC)",
      "Actor",
      "Authority",
      "Rationale",
      "Reference",
      "Changes",
      "Hash after",
      "Compare",
    ];
    return h(
      "table",
      { id: "timeline-table", class: "timeline" },
      h("caption", { id: "timeline-caption" }, `Amendments of ${plan.title}`),
      h("thead", {}, h("tr", {}, columns.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", { id: "timeline-rows" }),
    );
  }

  function changeSummary(changes) {
    const counts = new Map();
    for (const change of changes) {
      // A translation says which language it translated into (`translated into ar`).
      const word =
        change.__typename === "TextTranslated"
          ? `translated into ${change.lang}`
          : CHANGES[change.__typename] || change.__typename;
      counts.set(word, (counts.get(word) || 0) + 1);
    }
    if (counts.size === 0) return h("em", {}, "none");
    return [...counts].map(([word, count]) => `${count} ${word}`).join(", ");
  }

  function amendmentRow(amendment) {
    const v = amendment.version;
    const button = h(
      "button",
      { type: "button", class: "compare", "data-version": v, "aria-pressed": "false" },
      "Compare",
      h("span", { class: "visually-hidden" }, ` version ${v}`),
    );
    button.addEventListener("click", () => {
      state.diffDone = run(toggleVersion(v));
    });
    return h(
      "tr",
      { "data-version": v, id: `amendment-${v}` },
      h("th", { scope: "row", class: "version" }, String(v)),
      h("td", { class: "recorded" }, instant(amendment.recordedAt)),
      h("td", { class: "actor" }, amendment.actor),
      h("td", { class: "authority" }, authorityName(amendment.authority)),
      h("td", { class: "rationale" }, amendment.rationale),
      h(
        "td",
        { class: "reference" },
        amendment.reference || h("em", {}, "none"),
        amendment.effectiveFrom
          ? [h("br"), "effective from ", h("time", {}, amendment.effectiveFrom)]
          : null,
      ),
      h("td", { class: "changes" }, changeSummary(amendment.changes)),
      h("td", { class: "hash-cell" }, hash(amendment.hash)),
      h("td", { class: "select" }, button),
    );
  }

  function addRows(connection) {
    const rows = $("timeline-rows");
    put(rows, connection.nodes.map(amendmentRow));
    state.shown += connection.nodes.length;
    state.total = connection.totalCount;
    state.cursor = connection.pageInfo.endCursor;
    ui.more.hidden = !connection.pageInfo.hasNextPage;
    $("timeline-caption").textContent =
      `Amendments of ${state.planTitle}: ${state.shown} of ${state.total} shown, newest first`;
    ui.timelineStatus.textContent = `Showing ${state.shown} of ${plural(
      state.total,
      "amendment",
    )}.`;
    markSelection();
  }

  async function loadMore() {
    const request = ++state.requests.more;
    const planRequest = state.requests.plan;
    ui.more.disabled = true;
    ui.timelineStatus.textContent = "Loading more amendments…";
    try {
      const data = await graphql(QUERIES.plan, {
        id: state.planId,
        version: state.version,
        first: PAGE_SIZE,
        after: state.cursor,
      });
      if (request !== state.requests.more || planRequest !== state.requests.plan) return;
      if (!data.plan) throw new ApiError(`The plan "${state.planId}" is gone.`);
      addRows(data.plan.amendments);
    } catch (error) {
      if (request !== state.requests.more) return;
      ui.timelineStatus.replaceChildren(failure("Could not load more amendments", error));
    } finally {
      ui.more.disabled = false;
    }
  }

  // ---------------------------------------------------------------- selection and diff

  function toggleVersion(version) {
    const at = state.selected.indexOf(version);
    if (at >= 0) state.selected.splice(at, 1);
    else state.selected.push(version);
    if (state.selected.length > 2) state.selected.shift();
    return applySelection();
  }

  function selectVersions(versions) {
    state.selected = versions.slice(-2);
    return applySelection();
  }

  function markSelection() {
    for (const button of ui.timeline.querySelectorAll("button.compare")) {
      const chosen = state.selected.includes(Number(button.dataset.version));
      button.setAttribute("aria-pressed", String(chosen));
      button.closest("tr").classList.toggle("selected", chosen);
    }
  }

  async function applySelection() {
    markSelection();
    const picked = state.selected;
    ui.clear.disabled = picked.length === 0;
    remember();
    if (picked.length < 2) {
      state.requests.diff++;
      ui.selection.textContent =
        picked.length === 0
          ? "No versions selected."
          : `Version ${picked[0]} selected: select one more to compare.`;
      ui.diffStatus.replaceChildren();
      idle(ui.diff);
      return;
    }
    const from = Math.min(...picked);
    const to = Math.max(...picked);
    ui.selection.textContent = `Comparing version ${from} with version ${to}.`;
    await showDiff(from, to);
  }

  async function showDiff(from, to) {
    const request = ++state.requests.diff;
    ui.diffStatus.textContent = `Loading the differences from version ${from} to ${to}…`;
    busy(ui.diff, "Loading…");
    let diff;
    try {
      diff = (await graphql(QUERIES.diff, { id: state.planId, from, to })).planDiff;
    } catch (error) {
      if (request !== state.requests.diff) return;
      ui.diffStatus.replaceChildren();
      failed(ui.diff, `Could not compare version ${from} with version ${to}`, error);
      return;
    }
    if (request !== state.requests.diff) return;
    const counts = diffCounts(diff);
    ui.diffStatus.textContent = counts.length
      ? `From version ${from} to version ${to}: ${counts.join(", ")}.`
      : `No differences between version ${from} and version ${to}.`;
    done(ui.diff, renderDiff(diff));
  }

  function diffCounts(diff) {
    const parts = [
      [diff.added.length, "node added", "nodes added"],
      [diff.removed.length, "node removed", "nodes removed"],
      [diff.changed.length, "node changed", "nodes changed"],
      [diff.moved.length, "node moved", "nodes moved"],
      [diff.linksAdded.length, "link added", "links added"],
      [diff.linksRemoved.length, "link removed", "links removed"],
    ];
    return parts.filter(([count]) => count > 0).map(([n, one, many]) => plural(n, one, many));
  }

  function group(key, title, items, render) {
    if (items.length === 0) return null;
    const id = `diff-${key}-heading`;
    return h(
      "section",
      { class: `diff-group diff-${key}`, "aria-labelledby": id },
      h("h4", { id }, `${title} (${items.length})`),
      h("ul", { id: `diff-${key}` }, items.map(render)),
    );
  }

  function under(node) {
    return node.parent ? ["under ", nodeLabel(node.parent)] : "at the top level";
  }

  function place(parent, position) {
    return [parent ? ["under ", nodeLabel(parent)] : "at the top level", `, position ${position}`];
  }

  function link(item, Mark) {
    const relation = String(item.relation).toLowerCase().replace(/_/g, " ");
    const relationText = h("strong", { class: "relation" }, relation);
    return h("li", {}, h(Mark, {}, nodeLabel(item.from), " ", relationText, " ", nodeLabel(item.to)));
  }

  function renderDiff(diff) {
    const heading = h(
      "h3",
      { id: "diff-title" },
      `Version ${diff.fromVersion} → version ${diff.toVersion}`,
    );
    if (diffCounts(diff).length === 0) {
      return [
        heading,
        h(
          "p",
          { class: "empty", id: "diff-empty" },
          `No differences: version ${diff.toVersion} has the same content as version ` +
            `${diff.fromVersion}. Nothing was added, removed, changed, moved, linked or unlinked.`,
        ),
      ];
    }
    return [
      heading,
      group("added", "Added", diff.added, (node) =>
        h("li", {}, h("ins", {}, nodeLabel(node)), h("span", { class: "where" }, " — ", under(node))),
      ),
      group("removed", "Removed", diff.removed, (node) =>
        h(
          "li",
          {},
          h("del", {}, nodeLabel(node)),
          h("span", { class: "where" }, " — was ", under(node)),
        ),
      ),
      group("changed", "Changed", diff.changed, (item) =>
        h(
          "li",
          {},
          nodeLabel(item.node),
          h(
            "ul",
            { class: "fields" },
            item.fields.map((field) =>
              h(
                "li",
                { class: "field-change", "data-field": field.field },
                h("span", { class: "field" }, field.field),
                ": ",
                value(field.before, "del"),
                h("span", { class: "arrow" }, " → "),
                value(field.after, "ins"),
              ),
            ),
          ),
        ),
      ),
      group("moved", "Moved", diff.moved, (item) =>
        h(
          "li",
          {},
          nodeLabel(item.node),
          " moved from ",
          place(item.fromParent, item.fromPosition),
          h("span", { class: "arrow" }, " → "),
          place(item.toParent, item.toPosition),
        ),
      ),
      group("links-added", "Links added", diff.linksAdded, (item) => link(item, "ins")),
      group("links-removed", "Links removed", diff.linksRemoved, (item) => link(item, "del")),
    ];
  }

  // ---------------------------------------------------------------- integrity

  async function verify() {
    const request = ++state.requests.verify;
    const planId = state.planId;
    ui.verify.disabled = true;
    busy(ui.verifyResult, `Verifying the hash chain of ${planId}…`);
    try {
      const result = (await graphql(QUERIES.verify, { id: planId })).verifyIntegrity;
      if (request !== state.requests.verify || planId !== state.planId) return;
      done(ui.verifyResult, integrity(result));
    } catch (error) {
      if (request !== state.requests.verify) return;
      failed(ui.verifyResult, "Could not verify the plan's integrity", error);
    } finally {
      if (planId === state.planId) ui.verify.disabled = false;
    }
  }

  function integrity(result) {
    const checked = plural(result.checked, "event");
    // The server's moment of reading: a verdict is never a cached one.
    const when = h("p", { class: "when" }, "Verified at ", instant(result.checkedAt), ".");
    if (result.ok) {
      return [
        h(
          "p",
          { class: "verdict ok", id: "verify-verdict", "data-ok": "true" },
          h("strong", {}, "✔ Integrity OK."),
          ` The hash chain of ${result.planId} is intact: ${checked} checked, `,
          `up to version ${result.headVersion}.`,
        ),
        h("p", {}, `Hash of version ${result.headVersion}: `, hash(result.headHash)),
        when,
      ];
    }
    const found = result.firstBreak;
    return [
      h(
        "p",
        { class: "verdict broken", id: "verify-verdict", "data-ok": "false" },
        h("strong", {}, "✘ Integrity BROKEN"),
        found ? ` at version ${found.version}: ` : ": ",
        found ? BREAKS[found.what] || found.what : problemsSummary(result.problems),
        ".",
      ),
      ...(result.problems || []).map((p) =>
        h("p", { class: "problem" }, `${p.what} at version ${p.version}`,
          p.nodeId ? ` (node ${p.nodeId})` : "", `: ${p.detail}`),
      ),
      found
        ? h(
            "dl",
            { class: "facts" },
            h("dt", {}, "First broken version"),
            h("dd", {}, String(found.version)),
            h("dt", {}, "What"),
            h("dd", {}, found.what),
            h("dt", {}, "Detail"),
            h("dd", {}, found.detail),
          )
        : null,
      h("p", {}, `${checked} checked; the log's head is version ${result.headVersion}.`),
      when,
    ];
  }

  function problemsSummary(problems) {
    if (!problems || problems.length === 0) return "the server found the chain broken";
    return `${plural(problems.length, "stored record")} disagree with the intact chain`;
  }

  // ---------------------------------------------------------------- wiring

  /** Keep plan and selection in the address bar, so the view can be shared. */
  function remember() {
    const params = new URLSearchParams();
    if (state.planId) params.set("plan", state.planId);
    if (state.selected.length === 2) {
      params.set("from", String(Math.min(...state.selected)));
      params.set("to", String(Math.max(...state.selected)));
    }
    const query = params.toString();
    history.replaceState(null, "", query ? `?${query}` : location.pathname);
  }

  /** Show any error a handler lets through instead of losing it in the console. */
  function run(promise) {
    return Promise.resolve(promise).catch((error) => {
      ui.pageErrors.replaceChildren(failure("Something went wrong", error));
    });
  }

  function version(params, name) {
    const raw = params.get(name);
    return raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
  }

  /** Press what the URL asks for: the same buttons a person would press. */
  async function preselect(params) {
    const from = version(params, "from");
    const to = version(params, "to");
    const jobs = [];
    if (from !== null && to !== null) {
      const buttons = [from, to].map((v) =>
        ui.timeline.querySelector(`button.compare[data-version="${v}"]`),
      );
      if (from !== to && buttons.every(Boolean)) {
        buttons[0].click();
        buttons[1].click();
        jobs.push(state.diffDone);
      } else {
        jobs.push(selectVersions([from, to])); // not on the first page, or the same version
      }
    }
    if (/^(1|true|yes)$/i.test(params.get("verify") || "") && !ui.verify.disabled) {
      ui.verify.click();
      jobs.push(state.verifyDone);
    }
    await Promise.all(jobs);
  }

  async function start() {
    ui.form.addEventListener("submit", (event) => event.preventDefault());
    ui.select.addEventListener("change", () => run(loadPlan(ui.select.value)));
    ui.more.addEventListener("click", () => run(loadMore()));
    ui.clear.addEventListener("click", () => run(selectVersions([])));
    ui.verify.addEventListener("click", () => {
      state.verifyDone = run(verify());
    });
    ui.checkpointCheck.addEventListener("click", () => run(checkCheckpoint()));
    run(loadCheckpoint());
    window.addEventListener("unhandledrejection", (event) => {
      ui.pageErrors.replaceChildren(failure("Something went wrong", event.reason));
    });

    const params = new URLSearchParams(location.search);
    const chosen = await loadPlans(params.get("plan"));
    if (chosen) {
      await loadPlan(chosen);
      await preselect(params);
    }
    document.body.dataset.state = "ready";
  }

  run(start());
})();
