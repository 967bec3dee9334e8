"""The ``HuongDan`` sheet: how to fill a template, in Vietnamese (SPEC §8).

The numbers quoted (bands, quota, deadlines, framework maxima) come from the settings and the
framework the template is generated from, so the instructions never disagree with the checks.
"""

from __future__ import annotations

from typing import Any

from .. import layout
from ..domain import Framework
from ..settings import Settings
from .common import Book, fit_row, num_text

HELP_WIDTH = 88


def _grading_lines(settings: Settings) -> list[str]:
    g, q = settings.grading, settings.quota
    base = "“Hoàn thành tốt nhiệm vụ” (loại B)" if q.base == "good_only" else "loại A và loại B"
    return [
        # letter §2.5: bands and the A-quota
        f"• Loại A - Hoàn thành xuất sắc nhiệm vụ: từ {num_text(g.a)} đến 100 điểm.",
        f"• Loại B - Hoàn thành tốt nhiệm vụ: từ {num_text(g.b)} đến dưới {num_text(g.a)} điểm.",
        f"• Loại C - Hoàn thành nhiệm vụ: từ {num_text(g.c)} đến dưới {num_text(g.b)} điểm.",
        f"• Loại D - Không hoàn thành nhiệm vụ: dưới {num_text(g.c)} điểm.",
        "• KXL - Không xếp loại (nghỉ dài ngày, mới tuyển dụng…): bắt buộc ghi lý do ở cột “Ghi chú”;"
        " không tính vào tỷ lệ.",
        f"• Số loại A của mỗi nhóm đối tượng không vượt quá {round(q.ratio * 100)}% số người được xếp {base}"
        " trong cùng danh sách (làm tròn xuống).",
        f"• Đơn vị hoặc nhóm đối tượng có dưới {q.small_group_size:02d} người được xếp loại A cho"
        f" {q.small_group_max_a:02d} người nếu người đó đạt đủ điều kiện"
        + (
            f"; danh sách có dưới {q.small_group_size:02d} người được xếp loại chỉ được"
            f" {q.small_group_max_a:02d} người loại A cho cả đơn vị, dù chia nhiều nhóm."
            if q.small_unit_total
            else "."
        ),
        "• Nhóm đối tượng chọn trong danh sách thả xuống (xem bảng mã); để trống = theo đối tượng."
        " Nhóm, đối tượng và mã chức danh phải khớp danh mục cán bộ.",
        "• Xếp loại không được cao hơn mức theo điểm; xếp thấp hơn mức theo điểm phải ghi lý do ở “Ghi chú”.",
    ]


def _due(day: int, after_days: int, when: str, month: str) -> str:
    """A deadline in words: N days after the period ends, or a day of the period's last month."""
    return f"trong {after_days} ngày sau khi kết thúc kỳ" if after_days else f"{when} {day} {month}"


def _deadline_lines(settings: Settings, quarterly: bool = False) -> list[str]:
    d = settings.deadlines
    when = "hết ngày" if d.inclusive else "trước ngày"
    month = "của tháng cuối kỳ (kỳ quý: tháng cuối quý)" if quarterly else "hằng tháng"
    after = "của tháng sau khi kết thúc kỳ" if quarterly else "của tháng kế tiếp"
    publication = (
        f"trong {d.publication_after_days} ngày sau khi kết thúc kỳ"
        if d.publication_after_days
        else f"{when} {d.publication_day:02d} {after}"
    )
    return [
        # letter §2.3: the monthly cycle; a regime may count days after the period ends (SPEC §13)
        f"• Cá nhân tự đánh giá, tự xếp loại: {_due(d.self_assessment_day, d.self_assessment_after_days, when, month)}.",
        f"• Cấp có thẩm quyền quyết định xếp loại: {_due(d.decision_day, d.decision_after_days, when, month)}.",
        f"• Công khai kết quả, biểu dương, khen thưởng: {publication}.",
        f"• Riêng tháng 12: hoàn thành toàn bộ việc đánh giá, xếp loại {when} {d.december_day}/12.",
        "• Nộp muộn vẫn được ghi nhận nhưng bị nêu tên trong báo cáo tổng hợp.",
    ]


def _framework_lines(framework: Framework) -> list[str]:
    lines = [f"Khung tiêu chí: {framework.name} (mã {framework.id}, phiên bản {framework.version})."]
    for part in framework.parts:
        span = (
            f"từ {num_text(part.min)} đến {num_text(part.max)} điểm"
            if part.min < 0
            else f"tối đa {num_text(part.max)} điểm"
        )
        lines.append(f"• Phần {part.code} - {part.name}: {span}.")
        for c in part.criteria:
            cspan = f"{num_text(c.min)}..{num_text(c.max)}" if c.min < 0 else f"tối đa {num_text(c.max)}"
            lines.append(f"    – {c.code} {c.name}: {cspan}.")
    return lines


def _product_lines(framework: Framework, regime: Any) -> list[str]:
    """How a computed task part is worked out (SPEC §13, Decree 335), and the cap flags."""
    lines = []
    for part in framework.parts:
        if not part.computed:
            continue
        lines += [
            f"• Phần {part.code} - {part.name} (tối đa {num_text(part.max)} điểm) tự tính từ số sản phẩm của kỳ"
            " (đã quy đổi): chỉ nhập số sản phẩm được giao, hoàn thành, hoàn thành đạt chất lượng, hoàn thành"
            " đúng hạn, số lần kiểm tra không đạt do lỗi lớn và số lần chậm tiến độ.",
            "• Tỷ lệ số lượng = hoàn thành ÷ được giao; tỷ lệ chất lượng = đạt chất lượng ÷ được giao, mỗi lần"
            " kiểm tra không đạt trừ 25% điểm chất lượng của một sản phẩm; tỷ lệ tiến độ = đúng hạn ÷ được giao,"
            " mỗi lần chậm trừ 25% điểm tiến độ của một sản phẩm.",
            f"• Công chức: điểm = bình quân ba tỷ lệ × {num_text(part.max)}, làm tròn 2 chữ số thập phân.",
        ]
        if part.leaders:
            lines.append(
                "• Lãnh đạo, cấp phó (theo Mã chức danh): bình quân sáu tỷ lệ - thêm kết quả đơn vị phụ trách"
                " (100% nếu mọi người từ loại C trở lên, 50% nếu có người loại D), năng lực lãnh đạo, quản lý và"
                f" khả năng đoàn kết, mỗi tỷ lệ nhập từ 0 đến 100 - × {num_text(part.max)}"
                " (cách hiểu của chương trình, cơ quan kiểm tra lại theo văn bản của mình)."
            )
    for cap in getattr(getattr(regime, "bands", None), "caps", ()):
        lines.append(f"• {cap.label}: đánh dấu ô tương ứng; xếp loại tối đa {cap.grade}.")
    return lines


def _filling_lines(kind: str, quarterly: bool = False) -> list[str]:
    common = [
        "• Chỉ nhập vào các ô nền vàng nhạt; các ô nền xám là công thức tự tính - không gõ đè lên công thức.",
        "• Các cột có mã (Khối, Mã chức danh, Đối tượng, Xếp loại…) chọn trong danh sách thả xuống.",
        "• Ngày nhập dạng ngày/tháng/năm, ví dụ 25/01/2022.",
        "• Trang tính được khóa không mật khẩu để tránh xóa nhầm nhãn và công thức; vẫn chèn được dòng,"
        " cột và định dạng. Không đổi tên các tiêu đề cột.",
    ]
    if kind == layout.KIND_REGISTRY:
        return [
            "• Sheet “DonVi”: mỗi dòng một đơn vị; Mã đơn vị không trùng nhau.",
            "• Cấp hành chính (PHUONG, XA, QUAN, THANH_PHO…): ghi cho dòng của chính phường, xã, quận, thành phố;"
            " mỗi cấp có bảng tổng hợp riêng mang tên của nó. Các đơn vị ghi Mã đơn vị cấp trên là mã của cấp đó.",
            "• Cơ quan chủ quản, Tên cơ quan ban hành, Thể thức (Đảng / Nhà nước), Địa danh, Thẩm quyền ký"
            " (TM., KT.), Chức danh người ký, Họ tên người ký: in ở đầu và cuối văn bản; để trống thì lấy theo"
            " cấp trên và loại đơn vị.",
            "• Quản trị khối: đơn vị lập bảng tổng hợp của khối trong cấp của mình.",
            "• Hiệu lực từ ngày / Hết hiệu lực từ ngày: đơn vị kết thúc và đơn vị kế tiếp bắt đầu cùng một ngày;"
            " người chuyển sang đơn vị kế tiếp được ghi thêm một dòng cùng Mã cán bộ.",
            "• Sheet “CanBo”: mỗi dòng một người; Mã cán bộ không trùng nhau; Mã đơn vị phải có trong sheet DonVi.",
            "• Nhóm đối tượng để trống thì lấy theo Đối tượng. Đang công tác: chọn Có hoặc Không.",
            *common,
        ]
    specific = [
        "• Kỳ đánh giá: tháng nhập dạng MM/YYYY (ví dụ 03/2026), quý nhập dạng Quý I/2026 hoặc Q1/2026."
        if quarterly
        else "• Kỳ đánh giá nhập dạng tháng/năm MM/YYYY, ví dụ 01/2022.",
        "• Điểm cho phép tối đa 2 chữ số thập phân, gõ theo dấu thập phân của máy; chương trình đọc được cả"
        " dấu phẩy thập phân (9,5) và dấu chấm (9.5).",
        "• Xếp loại được tính từ tổng điểm chính xác, không làm tròn (89,99 điểm là loại B).",
    ]
    if kind == layout.KIND_UNIT_LIST:
        specific += [
            f"• Mỗi tệp là danh sách do MỘT người quyết định xếp loại của một đơn vị trong một {'kỳ' if quarterly else 'tháng'}.",
            "• Mỗi người một dòng, bắt đầu ngay dưới dòng tiêu đề cột; không để dòng trống xen giữa.",
            "• Đơn vị từ 20 CBCCVC, LĐHĐ trở lên: ghi người nhận xét (cấp phó phụ trách) cho từng người.",
        ]
    else:
        specific += [
            "• Nhập điểm từng tiêu chí; điểm từng phần và tổng điểm tự tính.",
            "• Cá nhân nhập cột “Điểm tự chấm”, cấp có thẩm quyền nhập cột “Điểm cấp có thẩm quyền chấm”.",
        ]
    return specific + common


def write_help(book: Book, kind: str, settings: Settings, framework: Framework | None, regime: Any = None) -> None:
    """Write the ``HuongDan`` sheet for template ``kind`` (``regime``: the regime the template
    is generated for, its source cited and its period kinds, products and caps explained)."""
    quarterly = "quarter" in getattr(regime, "period_kinds", ())
    letter = regime is None or getattr(regime, "id", "") == "hn-1841"
    bands_source = "Công văn 528-CV/QU, mục 2.5" if letter else regime.source
    deadlines_source = "Công văn 528-CV/QU, mục 2.3" if letter else regime.source
    ws = book.wb.add_worksheet(layout.HELP_SHEET)
    ws.set_column(0, 0, HELP_WIDTH)
    ws.hide_gridlines(2)
    title, head, body = book.title(), book.fmt(bold=True, font_size=13), book.fmt(text_wrap=True)
    ws.write_string(0, 0, "HƯỚNG DẪN ĐIỀN BIỂU MẪU", title)
    ws.write_string(1, 0, layout.KIND_TITLES[kind], book.subtitle())
    sections: list[tuple[str, list[str]]] = [("1. Cách điền", _filling_lines(kind, quarterly))]
    if kind != layout.KIND_REGISTRY:
        sections.append((f"2. Mức xếp loại và tỷ lệ ({bands_source})", _grading_lines(settings)))
        sections.append((f"3. Thời hạn ({deadlines_source})", _deadline_lines(settings, quarterly)))
        if framework is not None:
            sections.append(("4. Khung tiêu chí chấm điểm", _framework_lines(framework)))
            products = _product_lines(framework, regime)
            if products:
                sections.append(("5. Kết quả thực hiện nhiệm vụ tính từ sản phẩm", products))
    codes = settings.codes
    lists = [
        ("Khối", "blocks"),
        ("Đối tượng", "categories"),
        ("Nhóm đối tượng (để trống = theo đối tượng)", "groups"),
        ("Xếp loại", "grades"),
        ("Mã chức danh", "positions"),
    ]
    if kind == layout.KIND_REGISTRY:
        lists.append(("Loại đơn vị", "unit_kinds"))
    code_lines = []
    for caption, name in lists:
        code_lines.append(f"{caption}:")
        code_lines.extend(f"    {c.code} - {c.label}" for c in getattr(codes, name))
    sections.append((f"{len(sections) + 1}. Bảng mã", code_lines))
    row = 3
    for heading, lines in sections:
        ws.write_string(row, 0, heading, head)
        row += 1
        for line in lines:
            ws.write_string(row, 0, line, body)
            fit_row(ws, row, line, HELP_WIDTH)
            row += 1
        row += 1
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.6, right=0.6, top=0.6, bottom=0.6)
