"""The inline CSS of the HTML views: scoped to ``.nz-root``, readable on light and dark notebook themes."""

from __future__ import annotations

__all__ = ["CSS"]

CSS = """
.nz-root{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 font-size:13px;line-height:1.5;color:inherit;max-width:100%;overflow-x:auto}
.nz-root .nz-head{padding:4px 8px;margin-bottom:4px;border-radius:6px;background:rgba(31,111,235,.08)}
.nz-root .nz-head b{font-weight:600}
.nz-root details{margin:1px 0}
.nz-root summary{cursor:pointer;padding:1px 4px;border-radius:4px}
.nz-root summary:hover{background:rgba(128,128,128,.12)}
.nz-root .nz-body{margin-left:7px;padding-left:12px;border-left:1px solid rgba(128,128,128,.35)}
.nz-root .nz-type{font-weight:600;color:#1f6feb}
.nz-root .nz-name,.nz-root .nz-mono,.nz-root code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
 font-size:12px}
.nz-root .nz-name{margin-left:.4em}
.nz-root .nz-field{color:#57606a;font-weight:600}
.nz-root .nz-hint{color:#6e7781;margin-left:.6em}
.nz-root table{border-collapse:collapse;margin:2px 0 4px 0}
.nz-root .nz-fields th{text-align:left;font-weight:normal;color:#57606a;padding:1px 14px 1px 0;vertical-align:top;
 white-space:nowrap}
.nz-root .nz-fields td{padding:1px 0;vertical-align:top}
.nz-root .nz-text{white-space:pre-wrap}
.nz-root .nz-chip{display:inline-block;font-size:11px;line-height:16px;padding:0 6px;margin:1px 0 1px 4px;
 border-radius:8px;background:rgba(128,128,128,.16);white-space:nowrap}
.nz-root .nz-unit{background:rgba(26,127,55,.16)}
.nz-root .nz-lazy{color:#8c6d1f;font-style:italic;font-size:12px}
.nz-root a.nz-link{color:#8250df;text-decoration:none}
.nz-root a.nz-link:hover{text-decoration:underline}
.nz-root .nz-path{color:#6e7781;margin-left:.4em}
.nz-root .nz-cols th,.nz-root .nz-cols td{border-bottom:1px solid rgba(128,128,128,.25);padding:2px 12px 2px 0;
 text-align:left;vertical-align:top}
.nz-root .nz-cols th{font-weight:600;color:#57606a}
.nz-root .nz-dim{color:#6e7781}
"""
