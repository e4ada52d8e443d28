"""The evidence report of an execution: a JSON document (`model.build`), a self-contained HTML page
(`html.render`) and an SVG timeline (`svg.render`). Pure: the inputs are plain rows read by `load`."""
