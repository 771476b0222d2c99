import type { Dossier } from '@kcflow/workflow';

/**
 * The dossier as one printable HTML page (Vietnamese, A4). Everything from the store passes
 * through `escape`: names, reasons and notes are typed by applicants and officers, so the
 * page must never run or render what they wrote as markup. No script, no external resource.
 */
export function renderDossierHtml(d: Dossier): string {
  const app = d.application;
  const moment = d.asOf ? `tại thời điểm ${d.asOf}` : d.revision !== undefined ? `tại phiên bản ${d.revision}` : 'hiện tại';
  const verdict = d.integrity.valid
    ? '<p class="ok">Chuỗi băm toàn vẹn: không có sự kiện nào bị sửa đổi (integrity verified).</p>'
    : `<p class="broken">CẢNH BÁO: chuỗi băm bị phá vỡ — hồ sơ: ${brokenAt(d.integrity.application)}; chương trình: ${brokenAt(d.integrity.programme)}.</p>`;

  return `<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Hồ sơ ${e(app.id)}</title>
<style>
  body { font-family: "Times New Roman", serif; font-size: 12pt; margin: 2em; color: #000; }
  h1 { font-size: 16pt; } h2 { font-size: 13pt; border-bottom: 1px solid #000; margin-top: 1.5em; }
  table { border-collapse: collapse; width: 100%; margin: .5em 0; }
  th, td { border: 1px solid #444; padding: 3px 5px; text-align: left; vertical-align: top; }
  pre { white-space: pre-wrap; word-break: break-word; font-size: 9pt; margin: 0; }
  .ok { color: #064; } .broken { color: #a00; font-weight: bold; }
  @page { size: A4; margin: 15mm; }
  @media print { body { margin: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
</style>
</head>
<body>
<h1>Hồ sơ hỗ trợ khuyến công — ${e(app.project.title)}</h1>
<p>Mã hồ sơ ${e(app.id)} · ${e(moment)} · lập lúc ${e(d.generatedAt)}</p>
${verdict}

<h2>Hồ sơ đề nghị</h2>
${fields([
  ['Chương trình', `${d.programme.name ?? ''} (${d.programme.id}${d.programme.year ? `, ${d.programme.year}` : ''})`],
  ['Nội dung hỗ trợ', app.category],
  ['Trạng thái', `${app.status} · thanh toán: ${app.paymentStatus}`],
  ['Cơ sở', `${app.applicant.name} (MST ${app.applicant.taxCode}, ${app.applicant.kind})`],
  ['Địa bàn', [app.applicant.craftVillage, app.applicant.commune, app.applicant.district].filter(Boolean).join(', ')],
  ['Đề án', app.project.description],
  ['Tổng kinh phí', vnd(app.project.totalCost)],
  ['Kinh phí đề nghị', vnd(app.project.requestedAmount)],
  ['Kinh phí được duyệt', app.approvedAmount === null ? '—' : vnd(app.approvedAmount)],
  ['Đã giải ngân', vnd(app.disbursedAmount)],
])}

<h2>Thẩm định</h2>
${table(['Phiên bản', 'Người thẩm định', 'Thời điểm', 'Điểm', 'Kiến nghị', 'Số tiền kiến nghị', 'Ghi chú'], d.reviews.map((r) => [r.revision, who(r), r.at, r.score, r.recommendation, money(r.recommendedAmount), r.notes ?? '']))}
${d.revisionRequests.length ? table(['Phiên bản', 'Người yêu cầu', 'Thời điểm', 'Yêu cầu bổ sung'], d.revisionRequests.map((r) => [r.revision, who(r), r.at, r.reason])) : ''}
${d.recusals.length ? `<p>Tự rút khỏi thẩm định (xung đột lợi ích):</p>${table(['Phiên bản', 'Cán bộ', 'Thời điểm', 'Lý do'], d.recusals.map((r) => [r.revision, who(r), r.at, r.reason]))}` : ''}

<h2>Quyết định</h2>
${table(['Phiên bản', 'Kết quả', 'Số quyết định', 'Ngày quyết định', 'Số tiền duyệt', 'Lý do', 'Người ghi', 'Thời điểm'], d.decisions.map((x) => [x.revision, x.outcome === 'approved' ? 'Phê duyệt' : 'Từ chối', x.decisionNumber ?? '', x.decisionDate ?? '', money(x.approvedAmount), x.reason ?? '', who(x), x.at]))}

<h2>Giải ngân</h2>
${table(['Phiên bản', 'Số chứng từ', 'Số tiền', 'Ngày chi', 'Người ghi', 'Thời điểm'], d.payments.map((p) => [p.revision, p.paymentRef, money(p.amount), p.paidAt, who(p), p.at]))}

<h2>Nghiệm thu, đánh giá kết quả</h2>
${
  d.evaluation
    ? fields([
        ['Kết quả', d.evaluation.rating],
        ['Chỉ tiêu đạt được', Object.entries(d.evaluation.outcomes).map(([k, v]) => `${k}: ${v}`).join('; ')],
        ['Ghi chú', d.evaluation.notes ?? ''],
        ['Người đánh giá', `${who(d.evaluation)}, ${d.evaluation.at}`],
      ])
    : '<p>Chưa nghiệm thu.</p>'
}

<h2>Ngân sách chương trình</h2>
${table(['Phiên bản (chương trình)', 'Sự kiện', 'Số tiền', 'Lý do', 'Người ghi', 'Thời điểm'], d.budget.map((b) => [b.revision, b.type, money(b.amount), b.reason ?? '', who(b), b.at]))}

<h2>Toàn bộ lịch sử sự kiện</h2>
${table(
  ['Phiên bản', 'Sự kiện', 'Người thực hiện', 'Vai trò', 'Thời điểm', 'Dữ liệu'],
  d.history.map((h) => [h.revision, h.type, h.metadata.actorName ? `${h.metadata.actorName} (${h.metadata.actorId})` : h.metadata.actorId, h.metadata.role, h.metadata.at, { pre: JSON.stringify(h.data, null, 1) }]),
)}
<p>Chuỗi băm: hồ sơ ${d.integrity.application.events} sự kiện (${d.integrity.application.valid ? 'toàn vẹn' : 'BỊ PHÁ VỠ'}); chương trình ${d.integrity.programme.events} sự kiện (${d.integrity.programme.valid ? 'toàn vẹn' : 'BỊ PHÁ VỠ'}).</p>
</body>
</html>
`;
}

type Cell = string | number | { pre: string };

/** HTML-escapes text for element content and quoted attribute values. */
export function e(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function cell(value: Cell): string {
  return typeof value === 'object' ? `<pre>${e(value.pre)}</pre>` : e(value);
}

function table(headings: string[], rows: Cell[][]): string {
  if (rows.length === 0) return '<p>Không có.</p>';
  const head = `<tr>${headings.map((h) => `<th>${e(h)}</th>`).join('')}</tr>`;
  return `<table>${head}${rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

function fields(rows: Array<[string, string]>): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</table>`;
}

/** Whole VND with Vietnamese digit grouping: 300.000.000 ₫. */
function vnd(amount: number): string {
  return `${new Intl.NumberFormat('vi-VN').format(amount)} ₫`;
}

function money(amount: number | undefined): string {
  return amount === undefined ? '' : vnd(amount);
}

function who(a: { actorId: string; actorName?: string; role: string }): string {
  return `${a.actorName ? `${a.actorName} (${a.actorId})` : a.actorId}, ${a.role}`;
}

function brokenAt(verdict: { valid: boolean; firstBrokenRevision?: number }): string {
  return verdict.valid ? 'toàn vẹn' : `từ phiên bản ${verdict.firstBrokenRevision}`;
}
