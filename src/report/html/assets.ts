/**
 * The report's stylesheet and script, inlined into every page. Both are constants: no capture
 * data ever enters them (data lives in escaped DOM text and attributes), so the page's Content
 * Security Policy can allow exactly these two blocks by hash and nothing else.
 *
 * Colours (docs/html-report.md): what a mapped host range hits goes from cool (the VM's own
 * memory, its own BARs) to warm (another owner's memory, MMIO) to the alarm colours (I/O MMU
 * structures, the MSI window); severities use the same warm scale. The palette is after Okabe &
 * Ito's colour-blind-safe set, and every class also differs in lightness.
 */

export const CSS = `
:root{--bg:#fff;--fg:#1d232a;--muted:#5d6875;--line:#dde2e8;--panel:#f6f8fa;--link:#0b5cad;
--critical:#b0102a;--error:#d9480f;--warning:#b7791f;--info:#2f6f9f;
--own:#5aa9e6;--own-device:#8fd1c3;--host:#e69f00;--other-vm:#b35ab3;--mmio:#d55e00;--iommu:#7a0019;--msi:#e2c400;
--ram:#dfe5eb;--nonram:#9aa5b1;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#14181d;--fg:#e4e8ec;--muted:#9aa6b2;--line:#2c343d;--panel:#1b2128;--link:#7cb7f0;
--critical:#ff5c72;--error:#ff8a4c;--warning:#e8b84a;--info:#6fb1e6;--ram:#2e3842;--nonram:#5b6672;--iommu:#d6334d}}
*{box-sizing:border-box}
html{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0 auto;max-width:1180px;padding:24px 28px 64px}
h1{font-size:22px;margin:0 0 4px;letter-spacing:-.01em}
h2{font-size:17px;margin:32px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:22px 0 8px}
h5{font-size:13px;margin:12px 0 4px;text-transform:none}
a{color:var(--link)}
code,.mono{font-family:var(--mono);font-size:12.5px}
.meta{color:var(--muted);margin:0}
.meta code{color:var(--fg)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:96px;background:var(--panel)}
.card b{display:block;font-size:20px;line-height:1.2}
.card span{color:var(--muted);font-size:12px}
.card.sev-critical b{color:var(--critical)}.card.sev-error b{color:var(--error)}.card.sev-warning b{color:var(--warning)}.card.sev-info b{color:var(--info)}
.card.zero b{color:var(--muted)}
.filters{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;align-items:center;gap:8px 14px;padding:10px 12px;margin:8px 0 12px;background:var(--bg);border:1px solid var(--line);border-radius:8px}
.filters .lab{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.chip{display:inline-flex;align-items:center;gap:5px;border:1px solid var(--line);border-radius:999px;padding:2px 10px 2px 6px;cursor:pointer;user-select:none}
.chip input{margin:0;accent-color:currentColor}
.chip.sev-critical{color:var(--critical)}.chip.sev-error{color:var(--error)}.chip.sev-warning{color:var(--warning)}.chip.sev-info{color:var(--info)}
.chip b{color:var(--fg);font-weight:600}
select{font:inherit;padding:3px 6px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
.count{margin-left:auto;color:var(--muted)}
ol.findings{list-style:none;margin:0;padding:0}
.finding{border:1px solid var(--line);border-left:4px solid var(--muted);border-radius:6px;padding:10px 14px;margin:0 0 10px;background:var(--bg)}
.finding.sev-critical{border-left-color:var(--critical)}.finding.sev-error{border-left-color:var(--error)}.finding.sev-warning{border-left-color:var(--warning)}.finding.sev-info{border-left-color:var(--info)}
.finding:target{box-shadow:0 0 0 3px color-mix(in srgb,var(--link) 35%,transparent)}
.finding[hidden]{display:none}
.finding.suppressed{opacity:.62}
.fhead{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px}
.num{color:var(--muted);font-family:var(--mono);font-size:12px}
.badge{font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.05em;padding:1px 7px;border-radius:4px;color:#fff;background:var(--muted)}
.badge.sev-critical{background:var(--critical)}.badge.sev-error{background:var(--error)}.badge.sev-warning{background:var(--warning)}.badge.sev-info{background:var(--info)}
.check{font-weight:600}
.where{color:var(--muted);font-family:var(--mono);font-size:12px}
.tag{font-size:11px;border:1px solid var(--line);border-radius:4px;padding:0 6px;color:var(--muted)}
.tag.new{border-color:var(--error);color:var(--error)}
.msg{margin:6px 0 4px;overflow-wrap:anywhere}
details{margin:4px 0}
summary{cursor:pointer;color:var(--link);font-size:13px}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow:auto;max-height:360px;font-size:12px}
.desc{border-left:3px solid var(--line);padding:2px 0 2px 12px;margin:6px 0;color:var(--fg)}
.desc p,.desc li{max-width:80ch}
.desc ul,.desc ol{padding-left:22px}
.note{color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td .sev-critical,td.sev-critical{color:var(--critical);font-weight:600}td.sev-error{color:var(--error);font-weight:600}td.sev-warning{color:var(--warning)}td.sev-info{color:var(--info)}
tr.failed td{color:var(--error)}
.panel{border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:10px 0 18px}
.panel h3{margin-top:0}
svg{display:block;width:100%;height:auto;font-family:system-ui,sans-serif}
svg text{fill:var(--fg);font-size:11px}
.topo .colh{fill:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.05em}
.node rect{fill:var(--panel);stroke:var(--line);stroke-width:1.2}
.node .main{font-family:var(--mono);font-size:11.5px;font-weight:600}
.node .sub{fill:var(--muted);font-size:10px}
.n-dev.assigned rect{stroke:var(--own);stroke-width:1.8}
.n-dev.pt rect{stroke-dasharray:4 3;stroke:var(--own)}
.n-dev.stale rect{stroke:var(--error);stroke-dasharray:4 3}
.n-ctx.bad rect{stroke:var(--critical);stroke-width:1.8}
.n-ctx.none rect{fill:none;stroke-dasharray:4 3}
.n-dom.vm rect{fill:color-mix(in srgb,var(--own) 18%,var(--bg));stroke:var(--own)}
.n-dom.host rect{fill:color-mix(in srgb,var(--host) 16%,var(--bg));stroke:var(--host)}
.n-dom.unused rect{stroke-dasharray:4 3}
.n-vm rect{fill:color-mix(in srgb,var(--other-vm) 14%,var(--bg));stroke:var(--other-vm)}
.edge{fill:none;stroke:var(--nonram);stroke-width:1.3}
.edge.vm{stroke:var(--other-vm)}
.edge.direct{stroke-dasharray:5 4}
.dot.sev-critical{fill:var(--critical)}.dot.sev-error{fill:var(--error)}.dot.sev-warning{fill:var(--warning)}.dot.sev-info{fill:var(--info)}
.more{fill:var(--muted);font-style:italic}
.amap .lbl{fill:var(--muted);font-size:11px}
.amap .lbl.sub{font-size:9.5px}
.amap .frame{fill:var(--panel);stroke:var(--line)}
.amap .ticks line{stroke:var(--muted)}
.amap .ticks text{fill:var(--muted);font-size:10px;font-family:var(--mono)}
.amap .mem .ram{fill:var(--ram)}.amap .mem .nonram{fill:var(--nonram)}
.amap .ref line{stroke:var(--msi);stroke-width:1.5;stroke-dasharray:3 2}
.amap .ref text{fill:var(--muted);font-size:9.5px}
.k-own,.sw.k-own{fill:var(--own);background:var(--own)}
.k-own-device,.sw.k-own-device{fill:var(--own-device);background:var(--own-device)}
.k-host,.sw.k-host{fill:var(--host);background:var(--host)}
.k-other-vm,.sw.k-other-vm{fill:var(--other-vm);background:var(--other-vm)}
.k-mmio,.sw.k-mmio{fill:var(--mmio);background:var(--mmio)}
.k-iommu,.sw.k-iommu{fill:var(--iommu);background:var(--iommu)}
.k-msi,.sw.k-msi{fill:var(--msi);background:var(--msi)}
.flag rect.flagged{fill:color-mix(in srgb,var(--critical) 22%,transparent);stroke:var(--critical);stroke-width:1.5}
.flag path{fill:var(--critical)}
.flag text{fill:var(--critical);font-weight:700;font-size:10.5px}
.flag.sev-error rect.flagged{stroke:var(--error)}.flag.sev-error path,.flag.sev-error text{fill:var(--error)}
.flag.sev-warning rect.flagged{stroke:var(--warning)}.flag.sev-warning path,.flag.sev-warning text{fill:var(--warning)}
.flag.sev-info rect.flagged{stroke:var(--info)}.flag.sev-info path,.flag.sev-info text{fill:var(--info)}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:6px 0 2px;font-size:12px;color:var(--muted)}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px}
.sw.ram{background:var(--ram)}.sw.nonram{background:var(--nonram)}
.sw.flag{background:color-mix(in srgb,var(--critical) 22%,transparent);border:1.5px solid var(--critical)}
#tip{position:fixed;z-index:9;pointer-events:none;max-width:520px;padding:6px 9px;border-radius:6px;background:#1d232a;color:#f1f4f7;font:12px/1.45 var(--mono);box-shadow:0 4px 14px rgba(0,0,0,.25);white-space:pre-line}
#tip[hidden]{display:none}
details.capture>summary{font-size:15px;font-weight:600;color:var(--fg)}
nav.toc{display:flex;gap:18px;margin:10px 0 0;font-size:13px}
nav.toc a{text-decoration:none}
footer{margin-top:40px;color:var(--muted);font-size:12px}
`;

/**
 * Filters, hover texts and the check descriptions. Works from file:// with no server: it reads
 * only the DOM (data-* attributes, textContent) and writes only textContent, hidden and classes.
 */
export const JS = `
(function(){
'use strict';
function $$(sel,root){return Array.prototype.slice.call((root||document).querySelectorAll(sel));}
function applyFilters(){
  var bar=document.querySelector('.filters');if(!bar)return;
  var sev={};$$('input[data-filter="severity"]',bar).forEach(function(i){sev[i.value]=i.checked;});
  var sel=bar.querySelector('select[data-filter="check"]');var check=sel?sel.value:'';
  var sup=bar.querySelector('input[data-filter="suppressed"]');var showSup=sup?sup.checked:true;
  var shown=0,all=$$('li.finding');
  all.forEach(function(li){
    var ok=sev[li.getAttribute('data-severity')]!==false&&(check===''||li.getAttribute('data-check')===check)&&(showSup||!li.hasAttribute('data-suppressed'));
    li.hidden=!ok;if(ok)shown++;
  });
  $$('[data-findings-empty]').forEach(function(p){var list=p.previousElementSibling;p.hidden=!list||$$('li.finding:not([hidden])',list).length>0;});
  var c=bar.querySelector('[data-count]');if(c)c.textContent='Showing '+shown+' of '+all.length+' finding'+(all.length===1?'':'s');
}
$$('[data-filter]').forEach(function(el){el.addEventListener('change',applyFilters);});
applyFilters();
$$('details.about').forEach(function(d){
  d.addEventListener('toggle',function(){
    var body=d.querySelector('.desc');if(!d.open||!body||body.getAttribute('data-filled'))return;
    var origin=document.getElementById(d.getAttribute('data-src')||'');var from=origin&&origin.querySelector('.desc');
    if(from){body.textContent='';Array.prototype.forEach.call(from.childNodes,function(n){body.appendChild(n.cloneNode(true));});body.setAttribute('data-filled','1');}
  });
});
var tip=document.getElementById('tip');
function hexOf(pfn){try{return '0x'+(BigInt(Math.floor(pfn))*4096n).toString(16);}catch(e){return '';}}
function cursorLine(ev){
  var band=ev.target.closest&&ev.target.closest('g.band');var svg=band&&band.ownerSVGElement;if(!svg)return '';
  var m=svg.getScreenCTM();if(!m)return '';
  var pt=svg.createSVGPoint();pt.x=ev.clientX;pt.y=ev.clientY;var p=pt.matrixTransform(m.inverse());
  var left=+svg.getAttribute('data-left'),cols=+svg.getAttribute('data-cols');
  var h=band.getAttribute('data-axis')==='h';var lo=+svg.getAttribute(h?'data-hlo':'data-ilo'),hi=+svg.getAttribute(h?'data-hhi':'data-ihi');
  var f=(p.x-left)/cols;if(f<0||f>1)return '';
  return (h?'HPA ':'IOVA ')+hexOf(lo+f*(hi-lo))+' (cursor)';
}
function show(ev){
  if(!tip)return;var t=ev.target.closest&&ev.target.closest('[data-t]');var text=t?t.getAttribute('data-t'):'';
  var cur=cursorLine(ev);var all=[cur,text].filter(Boolean).join('\\n');
  if(!all){tip.hidden=true;return;}
  tip.textContent=all;tip.hidden=false;
  var x=ev.clientX+14,y=ev.clientY+16,w=tip.offsetWidth,h=tip.offsetHeight;
  if(x+w>window.innerWidth-8)x=Math.max(8,ev.clientX-w-14);if(y+h>window.innerHeight-8)y=Math.max(8,ev.clientY-h-16);
  tip.style.left=x+'px';tip.style.top=y+'px';
}
document.addEventListener('mousemove',show);
document.addEventListener('mouseleave',function(){if(tip)tip.hidden=true;});
})();
`;
