// GraphiQL on planapi: the editor, the explorer plugin, subscriptions over graphql-ws on the
// same address. A file rather than an inline script, so the page's CSP needs no 'unsafe-inline'.
// `?q=…&variables=…` open the editor with that text (not `query`: a GET with `query` is a
// GraphQL request, answered with JSON).
(function () {
  "use strict";

  var WELCOME = [
    "# planapi: the Baku Action Plan as an append-only, hash-chained log.",
    "# Run with Ctrl-Enter (or the play button). To amend, put an admin token in Headers:",
    '#   {"Authorization": "Bearer planapi_…"}   (planapi tokens create --name me --role admin)',
    "",
    "query Plan {",
    '  plan(id: "baku-2026") {',
    "    id version recordedAt hash",
    "    priorities { id code title }",
    "  }",
    "}",
    "",
  ].join("\n");

  var parameters = new URLSearchParams(window.location.search);

  function remember(key, value) {
    if (value) parameters.set(key, value);
    else parameters.delete(key);
    var search = parameters.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  var url = window.location.href.split("?")[0].split("#")[0];
  var socket = new URL(url);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: socket.toString() });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  function Page() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery: WELCOME,
      query: parameters.get("q") || undefined,
      variables: parameters.get("variables") || undefined,
      
      onEditQuery: function (text) { remember("q", text); },
      onEditVariables: function (text) { remember("variables", text); },
      defaultEditorToolsVisibility: true,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      // Headers carry tokens: kept in this browser's storage, never put in the address.
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(Page));
})();
