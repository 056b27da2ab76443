// Renders the OpenAPI document as a plain page: every operation with its parameters, body and answers.
(function () {
  "use strict";
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function schemaName(schema) {
    if (!schema) return "";
    // "#/components/schemas/ProductOut.f179fd8" or, for a nested model, "…/ProductOut.f179fd8.PhaseOut"
    if (schema.$ref) return schema.$ref.split("/").pop().split(".").filter(function (part) { return !/^[0-9a-f]{7}$/.test(part); }).pop();
    if (schema.format === "binary") return "file";
    if (schema.type === "array" && schema.items) return "list of " + schemaName(schema.items);
    return schema.type || "";
  }
  function fieldsTable(doc, schema) {
    if (schema && schema.$ref) schema = doc.components.schemas[schema.$ref.split("/").pop()];
    if (!schema || !schema.properties) return el("p", schemaName(schema));
    var table = el("table", "", "table"), head = el("tr");
    ["Field", "Type", "Required", "About"].forEach(function (h) { head.appendChild(el("th", h)); });
    table.appendChild(head);
    Object.keys(schema.properties).forEach(function (name) {
      var prop = schema.properties[name], row = el("tr");
      var type = prop.anyOf ? prop.anyOf.map(schemaName).join(" or ") : schemaName(prop);
      row.appendChild(el("td", name));
      row.appendChild(el("td", type));
      row.appendChild(el("td", (schema.required || []).indexOf(name) >= 0 ? "yes" : ""));
      row.appendChild(el("td", prop.description || ""));
      table.appendChild(row);
    });
    return table;
  }
  function operation(doc, path, method, op) {
    var section = el("section", "", "card");
    section.id = op.operationId;
    section.appendChild(el("h2", method.toUpperCase() + " " + path));
    section.appendChild(el("p", op.summary || ""));
    (op.description || "").split("\n\n").forEach(function (para) { if (para.trim()) { section.appendChild(el("p", para)); } });
    var params = (op.parameters || []).map(function (p) { return p.name + " (" + p.in + (p.required ? ", required" : "") + ")" + (p.description ? ": " + p.description : ""); });
    if (params.length) {
      section.appendChild(el("h3", "Parameters"));
      var list = el("ul");
      params.forEach(function (p) { list.appendChild(el("li", p)); });
      section.appendChild(list);
    }
    var body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    if (body) { section.appendChild(el("h3", "JSON body")); section.appendChild(fieldsTable(doc, body.schema)); }
    var form = op.requestBody && op.requestBody.content && op.requestBody.content["multipart/form-data"];
    if (form) { section.appendChild(el("h3", "Form fields (multipart/form-data)")); section.appendChild(fieldsTable(doc, form.schema)); }
    section.appendChild(el("h3", "Answers"));
    var answers = el("ul");
    Object.keys(op.responses || {}).forEach(function (code) {
      var answer = op.responses[code], content = answer.content || {};
      var type = Object.keys(content)[0];
      answers.appendChild(el("li", code + ": " + (answer.description || "") + (type ? " (" + type + (content[type].schema ? ", " + schemaName(content[type].schema) : "") + ")" : "")));
    });
    section.appendChild(answers);
    var ok = op.responses && (op.responses["200"] || op.responses["201"]);
    var okSchema = ok && ok.content && ok.content["application/json"] && ok.content["application/json"].schema;
    if (okSchema) { section.appendChild(el("h3", "Answer fields")); section.appendChild(fieldsTable(doc, okSchema)); }
    return section;
  }
  fetch("/api/v1/openapi.json").then(function (r) { return r.json(); }).then(function (doc) {
    var intro = document.getElementById("intro"), toc = document.getElementById("toc"), ops = document.getElementById("operations");
    doc.info.description.split("\n\n").forEach(function (para) { intro.appendChild(el("p", para)); });
    ops.textContent = "";
    var list = el("ul");
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method], item = el("li"), link = el("a", method.toUpperCase() + " " + path + " — " + (op.summary || ""));
        link.href = "#" + op.operationId;
        item.appendChild(link); list.appendChild(item);
        ops.appendChild(operation(doc, path, method, op));
      });
    });
    toc.appendChild(list);
  }).catch(function () {
    document.getElementById("operations").textContent = "The OpenAPI document could not be loaded.";
  });
})();
