// Every string of the pages in Vietnamese (the default) and English, number and date formats,
// and the verdict words, which come from the service (`verdict-words.json`, made from
// kyso::verify::text) so that the page and `kyso verify` use the same words.

const STRINGS = {
  vi: {
    'app.title': 'Ký số và xác minh văn bản điện tử',
    'app.skip': 'Bỏ qua, đến nội dung chính',
    'app.name': 'Hệ thống ký số và xác minh văn bản điện tử',
    'app.sub': 'Chữ ký số trên văn bản PDF, XML và tỷ lệ văn bản được ký số',
    'app.logout': 'Đăng xuất',
    'app.nav': 'Chức năng',
    'app.switch': 'English',
    'app.switchLang': 'en',
    'app.footer': 'kyso — kiểm tra chữ ký số theo ETSI EN 319 102-1 (PAdES, XAdES). Thời gian hiển thị theo giờ Việt Nam (UTC+7).',
    'app.api': 'Mô tả giao diện lập trình (OpenAPI)',
    'app.whoami': 'Khóa {key} · {role} · đơn vị: {units}',
    'app.allUnits': 'tất cả',
    'app.loading': 'Đang tải…',
    'role.signer': 'ký số văn bản',
    'role.verifier': 'văn thư, xác minh văn bản',
    'role.auditor': 'kiểm tra, báo cáo',
    'role.admin': 'quản trị',

    'nav.verify': 'Xác minh văn bản',
    'nav.dashboard': 'Tỷ lệ ký số',
    'nav.sign': 'Ký số văn bản',

    'login.title': 'Đăng nhập',
    'login.intro': 'Nhập khóa API do quản trị viên hệ thống cấp cho bạn.',
    'login.key': 'Khóa API',
    'login.hint': 'Khóa chỉ được giữ trong trang đang mở, không lưu vào trình duyệt: khi bạn đăng xuất, tải lại hoặc đóng trang, khóa bị xóa và cần đăng nhập lại. Không gửi khóa qua thư điện tử hay tin nhắn.',
    'login.submit': 'Đăng nhập',
    'login.checking': 'Đang kiểm tra khóa…',
    'login.empty': 'Chưa nhập khóa API.',
    'login.malformed': 'Khóa API có dạng kyso_… — hãy kiểm tra lại, có thể đã sao chép thiếu.',
    'login.refused': 'Khóa API không đúng, đã bị thu hồi hoặc không còn hiệu lực.',
    'login.expired': 'Phiên làm việc đã kết thúc (khóa API không còn được chấp nhận). Vui lòng đăng nhập lại.',

    'denied.title': 'Không có quyền truy cập',
    'denied.verify': 'Khóa API của bạn (vai trò: {role}) không được dùng để xác minh văn bản.',
    'denied.dashboard': 'Khóa API của bạn (vai trò: {role}) không được xem báo cáo tỷ lệ ký số.',
    'denied.sign': 'Khóa API của bạn (vai trò: {role}) không được ký số văn bản.',

    'error.network': 'Không kết nối được với máy chủ kyso. Kiểm tra mạng hoặc thử lại sau.',
    'error.400': 'Yêu cầu không hợp lệ.',
    'error.401': 'Khóa API không còn được chấp nhận.',
    'error.403': 'Khóa API của bạn không được phép làm việc này.',
    'error.404': 'Không tìm thấy.',
    'error.413': 'Tệp lớn hơn giới hạn máy chủ cho phép.',
    'error.415': 'Máy chủ không nhận loại tệp này.',
    'error.422': 'Văn bản không ký được.',
    'error.503': 'Máy chủ đang bận hoặc tạm ngừng. Vui lòng thử lại sau ít phút.',
    'error.500': 'Máy chủ gặp lỗi nội bộ.',
    'error.other': 'Yêu cầu không thành công (HTTP {status}).',
    'error.detail': 'Chi tiết từ máy chủ:',
    'error.request': 'Mã yêu cầu (để báo cho quản trị viên): {id}',
    'error.unexpected': 'Trang gặp lỗi khi xử lý câu trả lời của máy chủ. Vui lòng thử lại; nếu vẫn lỗi, báo cho quản trị viên.',
    'error.technical': 'Chi tiết kỹ thuật (tiếng Anh):',

    'verify.title': 'Xác minh chữ ký số trên văn bản',
    'verify.lead': 'Chọn hoặc kéo thả một văn bản PDF hay XML để kiểm tra: văn bản có được ký không, ai ký, thay mặt đơn vị nào, chữ ký còn hợp lệ không, văn bản có bị sửa sau khi ký không.',
    'verify.drop': 'Kéo thả tệp PDF hoặc XML vào đây',
    'verify.or': 'hoặc',
    'verify.choose': 'Chọn tệp từ máy tính…',
    'verify.privacy': 'Tệp được gửi đến máy chủ kyso của cơ quan để kiểm tra, không gửi ra ngoài.',
    'verify.checking': 'Đang kiểm tra {name}…',
    'verify.done': 'Đã kiểm tra xong {name}: {verdict}.',
    'verify.failedRequest': 'Không kiểm tra được {name}.',
    'verify.oneFile': 'Mỗi lần chỉ kiểm tra một tệp.',
    'verify.empty': 'Tệp rỗng.',
    'verify.download': 'Tải báo cáo (JSON)',
    'verify.record': 'In biên bản kiểm tra',
    'verify.recordSaved': 'Đã tải biên bản kiểm tra của {name}: mở tệp để in hoặc lưu thành PDF.',
    'verify.recordFailed': 'Không tạo được biên bản kiểm tra.',
    'verify.another': 'Kiểm tra văn bản khác',
    'verify.resultTitle': 'Kết quả kiểm tra: {name}',
    'verify.conclusion': 'Kết luận về văn bản',
    'verify.file': 'Tệp',
    'verify.format': 'Định dạng',
    'verify.sha256': 'Mã băm SHA-256',
    'verify.validatedAt': 'Thời điểm kiểm tra',
    'verify.count': 'Số chữ ký',
    'verify.noSignature': 'Văn bản không mang chữ ký số nào.',
    'verify.signatureN': 'Chữ ký {n}',
    'verify.field': 'Trường chữ ký',
    'verify.kind': 'Loại chữ ký',
    'verify.signer': 'Người ký',
    'verify.unit': 'Đơn vị',
    'verify.organization': 'Cơ quan, tổ chức',
    'verify.issuer': 'Tổ chức cấp chứng thư số',
    'verify.serial': 'Số hiệu chứng thư số',
    'verify.signingTime': 'Thời gian ký',
    'verify.source.timestamp': 'theo dấu thời gian đã xác minh',
    'verify.source.claimed': 'do người ký tự khai, chưa được chứng minh',
    'verify.timestamp': 'Dấu thời gian',
    'verify.algorithm': 'Thuật toán chữ ký',
    'verify.unknown': 'không rõ',
    'verify.checks': 'Các bước kiểm tra',
    'facet.intact': 'Nội dung đã ký còn nguyên vẹn',
    'facet.signature_valid': 'Giá trị chữ ký đúng với khóa của người ký',
    'facet.trusted': 'Chứng thư số dẫn đến tổ chức tin cậy',
    'facet.revocation': 'Chứng thư số không bị thu hồi',
    'facet.changes_permitted': 'Thay đổi sau khi ký (nếu có) được phép',
    'facet.passed': 'đạt',
    'facet.failed': 'không đạt',
    'facet.undetermined': 'chưa xác định được',
    'verify.coverage': 'Phạm vi chữ ký',
    'coverage.whole_document': 'toàn bộ tệp',
    'coverage.revision': 'một phiên bản của tệp (có phần được thêm sau khi ký)',
    'coverage.unclear': 'không xác định được phiên bản nào đã được ký',
    'coverage.signed_content': 'toàn bộ nội dung văn bản XML',
    'coverage.partial_content': 'một phần văn bản XML (xem phạm vi đã ký)',
    'scope.title': 'Phạm vi đã ký',
    'scope.covered': 'Phần được ký',
    'scope.detached': 'Tệp đính kèm được ký',
    'scope.notCovered': 'Phần không được chữ ký này bảo vệ',
    'verify.reasons': 'Lý do',
    'format.document timestamp': 'dấu thời gian tài liệu',
    'format.usage rights (UR3)': 'chữ ký cấp quyền sử dụng (UR3)',
    'format.CMS (no signing-certificate attribute)': 'CMS (không có thuộc tính chứng thư người ký)',
    'format.unsupported': 'định dạng không được hỗ trợ',
    'scope.id': 'định danh',
    'verify.warnings': 'Lưu ý',
    'verify.chain': 'Chuỗi chứng thư số',
    'chain.position': 'Vị trí',
    'chain.leaf': 'Người ký',
    'chain.intermediate': 'Tổ chức cấp trung gian',
    'chain.root': 'Tổ chức gốc',
    'chain.subject': 'Chủ thể',
    'chain.issuer': 'Cấp bởi',
    'chain.validity': 'Thời hạn',
    'chain.revocation': 'Bằng chứng về thu hồi',
    'chain.none': 'Không dựng được chuỗi chứng thư.',
    'revocation.good (crl)': 'chưa bị thu hồi (theo danh sách thu hồi CRL)',
    'revocation.good (ocsp)': 'chưa bị thu hồi (theo trả lời OCSP)',
    'revocation.not checked': 'không kiểm tra',
    'revocation.not established': 'không xác lập (chứng thư gốc tin cậy, hoặc chuỗi không hợp lệ)',
    'verify.changes': 'Thay đổi sau khi ký',
    'verify.noChanges': 'Không có thay đổi nào sau khi ký.',
    'verify.changesSummary': '{n} đối tượng thay đổi sau khi ký; mức thay đổi: {level}.',
    'verify.changesPages': 'Trang bị ảnh hưởng: {pages}.',
    'package.title': 'Gói tin edXML (QCVN 102:2016)',
    'package.noEnvelope': 'Gói tin không có chữ ký số của đơn vị gửi; kết luận dựa trên các tệp đính kèm.',
    'package.envelope': 'Chữ ký trên gói tin',
    'package.from': 'Đơn vị gửi',
    'package.to': 'Đơn vị nhận',
    'package.number': 'Số, ký hiệu',
    'package.date': 'Ngày ban hành',
    'package.subject': 'Trích yếu',
    'package.signer': 'Người ký (theo gói tin)',
    'package.documentId': 'Mã văn bản',
    'package.checks': 'Đối chiếu thông tin gói tin với văn bản đã ký',
    'package.check.field': 'Thông tin',
    'package.check.header': 'Gói tin ghi',
    'package.check.outcome': 'Kết quả',
    'package.check.found': 'Văn bản đã ký ghi',
    'package.field.number': 'Số, ký hiệu',
    'package.field.promulgation_date': 'Ngày ban hành',
    'package.field.signer_name': 'Họ tên người ký',
    'package.field.signer_position': 'Chức vụ người ký',
    'package.outcome.match': 'khớp',
    'package.outcome.mismatch': 'KHÔNG KHỚP',
    'package.outcome.not_found': 'không có gì để đối chiếu',
    'package.attachmentN': 'Tệp đính kèm {n}',
    'package.kind': 'Loại nội dung',
    'package.compression': 'Nén',
    'package.size': 'Kích thước (byte)',
    'package.status.verified': 'đã kiểm tra chữ ký',
    'package.status.not_checkable': 'không có chữ ký số để kiểm tra',
    'package.status.not_read': 'không đọc được',
    'change.object': 'Đối tượng',
    'change.kind': 'Loại thay đổi',
    'change.page': 'Trang',
    'change.rule': 'Quy tắc giải thích',
    'change.level': 'Mức',
    'kind.added': 'thêm mới',
    'kind.modified': 'sửa đổi',
    'kind.deleted': 'xóa',
    'level.none': 'không thay đổi',
    'level.long_term_validation': 'bổ sung dữ liệu kiểm tra lâu dài',
    'level.signatures': 'thêm chữ ký',
    'level.form_filling': 'điền biểu mẫu',
    'level.annotations': 'thêm ghi chú',
    'level.other': 'thay đổi nội dung khác',

    'dash.title': 'Tỷ lệ văn bản được ký số',
    'dash.period': 'Kỳ báo cáo',
    'dash.kind': 'Loại kỳ',
    'dash.kind.month': 'Tháng',
    'dash.kind.quarter': 'Quý',
    'dash.kind.half': '6 tháng',
    'dash.kind.year': 'Năm',
    'dash.kind.custom': 'Tùy chọn',
    'dash.year': 'Năm',
    'dash.month': 'Tháng',
    'dash.quarter': 'Quý',
    'dash.half': 'Nửa năm',
    'dash.monthN': 'Tháng {n}',
    'dash.quarterN': 'Quý {n}',
    'dash.half1': '6 tháng đầu năm',
    'dash.half2': '6 tháng cuối năm',
    'dash.from': 'Từ ngày',
    'dash.to': 'Đến ngày',
    'dash.level': 'Cấp',
    'dash.level.all': 'Tất cả các cấp',
    'dash.scope': 'Đơn vị',
    'dash.show': 'Xem báo cáo',
    'dash.csv': 'Tải CSV',
    'dash.loading': 'Đang tải báo cáo…',
    'dash.loaded': 'Đã tải báo cáo kỳ {period}.',
    'dash.badPeriod': 'Kỳ báo cáo chưa hợp lệ: {reason}',
    'dash.badYear': 'năm phải có 4 chữ số',
    'dash.badRange': 'chọn cả ngày bắt đầu và ngày kết thúc, ngày kết thúc không trước ngày bắt đầu',
    'dash.heading': 'Kỳ {period}',
    'dash.range': 'Từ {first} đến {last}, theo giờ Việt Nam',
    'dash.province': 'Toàn bộ đơn vị',
    'dash.breadcrumb': 'Phạm vi báo cáo',
    'dash.issued': 'Văn bản phát hành',
    'dash.declared': 'Tỷ lệ khai báo đã ký',
    'dash.verified': 'Tỷ lệ xác minh đã ký',
    'dash.gap': 'Chênh lệch',
    'dash.points': '{v} điểm %',
    'dash.documents': '{n} văn bản',
    'dash.unverified': '{n} văn bản khai báo đã ký nhưng kyso chưa xác minh',
    'dash.byLevel': 'Theo cấp',
    'dash.byUnit': 'Theo đơn vị: tỷ lệ khai báo thấp nhất',
    'dash.byUnitAll': 'Theo đơn vị',
    'dash.showAll': 'Hiện tất cả {n} đơn vị',
    'dash.showFewer': 'Chỉ hiện {n} đơn vị thấp nhất',
    'dash.trend': 'Xu hướng theo tháng',
    'dash.trendWider': 'Kỳ đã chọn ngắn hơn hai tháng: biểu đồ cho 12 tháng đến hết kỳ ({period}).',
    'dash.trendCut': 'Kỳ đã chọn dài hơn {n} tháng: biểu đồ cho {n} tháng cuối của kỳ ({period}).',
    'dash.methods': 'Phương thức ký',
    'dash.signatures': 'Chữ ký',
    'dash.legend.declared': 'Khai báo đã ký (phần mềm quản lý văn bản báo)',
    'dash.legend.verified': 'Xác minh đã ký (kyso tìm thấy chữ ký hợp lệ)',
    'dash.noDocuments': 'không có văn bản',
    'dash.noData': 'Không có dữ liệu trong kỳ này.',
    'dash.tableView': 'Xem bảng số liệu',
    'dash.chartLabel': '{title}: {n} dòng, số liệu chi tiết trong bảng ngay dưới biểu đồ',
    'dash.units': 'Các đơn vị',
    'dash.filter': 'Lọc theo tên hoặc mã đơn vị',
    'dash.filterCount': 'Hiện {shown} / {total} đơn vị',
    'col.unit': 'Đơn vị',
    'col.units': 'Số đơn vị',
    'col.level': 'Cấp',
    'col.issued': 'Văn bản',
    'col.declared': 'Khai báo đã ký',
    'col.verified': 'Xác minh đã ký',
    'col.gap': 'Chênh lệch (điểm %)',
    'col.total': 'Kể cả đơn vị cấp dưới',
    'col.month': 'Tháng',
    'col.action': 'Chi tiết',
    'col.method': 'Phương thức',
    'dash.drill': 'Xem',
    'dash.drillLabel': 'Xem chi tiết và văn bản chưa ký của {name}',
    'dash.unsigned': 'Văn bản chưa ký hoặc chưa xác minh',
    'dash.unsignedCount': 'Hiện {shown} / {total} văn bản (cũ nhất trước).',
    'dash.unsignedNone': 'Không có văn bản nào chưa ký hoặc chưa xác minh trong kỳ.',
    'col.documentId': 'Mã văn bản',
    'col.number': 'Số, ký hiệu',
    'col.type': 'Loại văn bản',
    'col.issuedAt': 'Ngày phát hành',
    'col.declaredState': 'Khai báo',
    'col.verifiedState': 'kyso xác minh',
    'declared.signed': 'đã ký',
    'declared.unsigned': 'chưa ký',
    'verified.yes': 'có chữ ký hợp lệ',
    'verified.no': 'chưa xác minh',
    'dash.back': 'Quay lại toàn bộ đơn vị',
    'dash.up': 'Lên đơn vị cấp trên ({name})',
    'dash.note': 'Khai báo: phần mềm quản lý văn bản cho biết văn bản đã ký. Xác minh: kyso tìm thấy chữ ký hợp lệ (TOTAL-PASSED) khi ký hoặc khi kiểm tra kho lưu trữ. Đơn vị không phát hành văn bản nào trong kỳ hiển thị "—", không phải 0%.',
    'dash.csvSaved': 'Đã tải tệp {name}.',
    'dash.csvNothing': 'Chưa có báo cáo để tải: hãy bấm “Xem báo cáo” trước.',

    'sign.title': 'Ký số văn bản',
    'sign.lead': 'Ký văn bản PDF hoặc XML bằng khóa ký số của đơn vị. Chữ ký được ghi vào sổ theo dõi tỷ lệ ký số và nhật ký kiểm toán.',
    'sign.file': 'Văn bản (PDF hoặc XML)',
    'sign.key': 'Khóa ký số',
    'sign.keyOption': '{name} — đơn vị {unit} ({method})',
    'sign.documentId': 'Mã văn bản trong phần mềm quản lý văn bản (không bắt buộc)',
    'sign.reason': 'Lý do ký (không bắt buộc)',
    'sign.submit': 'Ký số',
    'sign.signing': 'Đang ký {name}…',
    'sign.done': 'Đã ký {name}. Kết quả kiểm tra văn bản vừa ký: {verdict}',
    'sign.download': 'Tải văn bản đã ký',
    'sign.noFile': 'Chọn văn bản cần ký.',
    'sign.badType': 'Chỉ ký được tệp PDF hoặc XML.',
    'sign.noKeys': 'Chưa có khóa ký số nào được cấu hình cho đơn vị của bạn.',
  },

  en: {
    'app.title': 'Document signing and verification',
    'app.skip': 'Skip to main content',
    'app.name': 'Document signing and verification',
    'app.sub': 'Digital signatures on PDF and XML documents, and the signing rate',
    'app.logout': 'Log out',
    'app.nav': 'Sections',
    'app.switch': 'Tiếng Việt',
    'app.switchLang': 'vi',
    'app.footer': 'kyso — signatures checked per ETSI EN 319 102-1 (PAdES, XAdES). Times are Vietnam time (UTC+7).',
    'app.api': 'API description (OpenAPI)',
    'app.whoami': 'Key {key} · {role} · units: {units}',
    'app.allUnits': 'all',
    'app.loading': 'Loading…',
    'role.signer': 'signer',
    'role.verifier': 'clerk, verifier',
    'role.auditor': 'auditor',
    'role.admin': 'administrator',

    'nav.verify': 'Verify a document',
    'nav.dashboard': 'Signing rate',
    'nav.sign': 'Sign a document',

    'login.title': 'Log in',
    'login.intro': 'Enter the API key your system administrator gave you.',
    'login.key': 'API key',
    'login.hint': 'The key is kept by this open page only, never stored in the browser: logging out, reloading or closing the page forgets it and you log in again. Never send a key by e-mail or chat.',
    'login.submit': 'Log in',
    'login.checking': 'Checking the key…',
    'login.empty': 'Enter an API key.',
    'login.malformed': 'An API key looks like kyso_… — check it, part of it may be missing.',
    'login.refused': 'The API key is wrong, revoked or no longer valid.',
    'login.expired': 'Your session has ended (the API key is no longer accepted). Please log in again.',

    'denied.title': 'Not permitted',
    'denied.verify': 'Your API key (role: {role}) may not verify documents.',
    'denied.dashboard': 'Your API key (role: {role}) may not read signing-rate reports.',
    'denied.sign': 'Your API key (role: {role}) may not sign documents.',

    'error.network': 'The kyso service cannot be reached. Check the network or try again later.',
    'error.400': 'The request is not valid.',
    'error.401': 'The API key is no longer accepted.',
    'error.403': 'Your API key may not do this.',
    'error.404': 'Not found.',
    'error.413': 'The file is larger than the service accepts.',
    'error.415': 'The service does not accept this kind of file.',
    'error.422': 'The document cannot be signed.',
    'error.503': 'The service is busy or stopping. Please try again in a few minutes.',
    'error.500': 'The service had an internal error.',
    'error.other': 'The request failed (HTTP {status}).',
    'error.detail': 'The service says:',
    'error.request': 'Request id (for your administrator): {id}',
    'error.unexpected': 'The page could not handle the answer from the service. Please try again; if it happens again, tell your administrator.',
    'error.technical': 'Technical detail:',

    'verify.title': 'Verify the signatures on a document',
    'verify.lead': 'Choose or drop a PDF or XML document to check it: is it signed, by whom, for which unit, is the signature still valid, was the document changed after signing?',
    'verify.drop': 'Drop a PDF or XML file here',
    'verify.or': 'or',
    'verify.choose': 'Choose a file…',
    'verify.privacy': "The file goes to your organisation's kyso service to be checked, nowhere else.",
    'verify.checking': 'Checking {name}…',
    'verify.done': 'Finished checking {name}: {verdict}.',
    'verify.failedRequest': 'Could not check {name}.',
    'verify.oneFile': 'One file at a time, please.',
    'verify.empty': 'The file is empty.',
    'verify.download': 'Download the report (JSON)',
    'verify.record': 'Print the verification record',
    'verify.recordSaved': 'The verification record of {name} is downloaded: open it to print or save as PDF.',
    'verify.recordFailed': 'The verification record could not be made.',
    'verify.another': 'Check another document',
    'verify.resultTitle': 'Result: {name}',
    'verify.conclusion': 'Verdict on the document',
    'verify.file': 'File',
    'verify.format': 'Format',
    'verify.sha256': 'SHA-256 hash',
    'verify.validatedAt': 'Checked at',
    'verify.count': 'Signatures',
    'verify.noSignature': 'The document carries no digital signature.',
    'verify.signatureN': 'Signature {n}',
    'verify.field': 'Signature field',
    'verify.kind': 'Signature type',
    'verify.signer': 'Signer',
    'verify.unit': 'Unit',
    'verify.organization': 'Organisation',
    'verify.issuer': 'Certificate issued by',
    'verify.serial': 'Certificate serial number',
    'verify.signingTime': 'Signed at',
    'verify.source.timestamp': 'from a verified timestamp',
    'verify.source.claimed': 'as claimed by the signer, not proven',
    'verify.timestamp': 'Timestamp',
    'verify.algorithm': 'Signature algorithm',
    'verify.unknown': 'unknown',
    'verify.checks': 'Checks',
    'facet.intact': 'The signed content is intact',
    'facet.signature_valid': "The signature value matches the signer's key",
    'facet.trusted': 'The certificate chains to a trusted authority',
    'facet.revocation': 'The certificate is not revoked',
    'facet.changes_permitted': 'Changes after signing (if any) are permitted',
    'facet.passed': 'passed',
    'facet.failed': 'failed',
    'facet.undetermined': 'could not be determined',
    'verify.coverage': 'What the signature covers',
    'coverage.whole_document': 'the whole file',
    'coverage.revision': 'one revision of the file (more was added after signing)',
    'coverage.unclear': 'no identifiable revision of the file',
    'coverage.signed_content': 'the whole XML document',
    'coverage.partial_content': 'part of the XML document (see the signed scope)',
    'scope.title': 'Signed scope',
    'scope.covered': 'Signed',
    'scope.detached': 'Detached documents signed',
    'scope.notCovered': 'Not protected by this signature',
    'verify.reasons': 'Reasons',
    'format.document timestamp': 'document timestamp',
    'format.usage rights (UR3)': 'usage rights (UR3)',
    'format.CMS (no signing-certificate attribute)': 'CMS (no signing-certificate attribute)',
    'format.unsupported': 'unsupported',
    'scope.id': 'Id',
    'verify.warnings': 'Notes',
    'verify.chain': 'Certificate chain',
    'chain.position': 'Position',
    'chain.leaf': 'Signer',
    'chain.intermediate': 'Intermediate authority',
    'chain.root': 'Root authority',
    'chain.subject': 'Subject',
    'chain.issuer': 'Issued by',
    'chain.validity': 'Valid',
    'chain.revocation': 'Revocation evidence',
    'chain.none': 'No certificate chain could be built.',
    'revocation.good (crl)': 'not revoked (certificate revocation list)',
    'revocation.good (ocsp)': 'not revoked (OCSP response)',
    'revocation.not checked': 'not checked',
    'revocation.not established': 'not established (a trust anchor, or a chain that did not validate)',
    'verify.changes': 'Changes after signing',
    'verify.noChanges': 'Nothing was changed after signing.',
    'verify.changesSummary': '{n} objects changed after signing; extent: {level}.',
    'verify.changesPages': 'Pages affected: {pages}.',
    'package.title': 'edXML package (QCVN 102:2016)',
    'package.noEnvelope': 'The package carries no signature of the sending unit; the verdict rests on its attachments.',
    'package.envelope': 'Signature on the package',
    'package.from': 'Sender',
    'package.to': 'Receivers',
    'package.number': 'Number and symbol',
    'package.date': 'Promulgation date',
    'package.subject': 'Subject',
    'package.signer': 'Signer (as the package says)',
    'package.documentId': 'Document id',
    'package.checks': 'The package header compared with the signed document',
    'package.check.field': 'Field',
    'package.check.header': 'The package says',
    'package.check.outcome': 'Outcome',
    'package.check.found': 'The signed document says',
    'package.field.number': 'Number and symbol',
    'package.field.promulgation_date': 'Promulgation date',
    'package.field.signer_name': "Signer's name",
    'package.field.signer_position': "Signer's position",
    'package.outcome.match': 'matches',
    'package.outcome.mismatch': 'DOES NOT MATCH',
    'package.outcome.not_found': 'nothing to compare with',
    'package.attachmentN': 'Attachment {n}',
    'package.kind': 'Content',
    'package.compression': 'Compression',
    'package.size': 'Size (bytes)',
    'package.status.verified': 'signatures checked',
    'package.status.not_checkable': 'no digital signature to check',
    'package.status.not_read': 'could not be read',
    'change.object': 'Object',
    'change.kind': 'Change',
    'change.page': 'Page',
    'change.rule': 'Explained by rule',
    'change.level': 'Extent',
    'kind.added': 'added',
    'kind.modified': 'modified',
    'kind.deleted': 'deleted',
    'level.none': 'no change',
    'level.long_term_validation': 'long-term validation data added',
    'level.signatures': 'signatures added',
    'level.form_filling': 'form filling',
    'level.annotations': 'annotations added',
    'level.other': 'other content changes',

    'dash.title': 'Signing rate of documents',
    'dash.period': 'Reporting period',
    'dash.kind': 'Period type',
    'dash.kind.month': 'Month',
    'dash.kind.quarter': 'Quarter',
    'dash.kind.half': 'Half-year',
    'dash.kind.year': 'Year',
    'dash.kind.custom': 'Custom',
    'dash.year': 'Year',
    'dash.month': 'Month',
    'dash.quarter': 'Quarter',
    'dash.half': 'Half',
    'dash.monthN': 'Month {n}',
    'dash.quarterN': 'Quarter {n}',
    'dash.half1': 'First half',
    'dash.half2': 'Second half',
    'dash.from': 'From',
    'dash.to': 'To',
    'dash.level': 'Level',
    'dash.level.all': 'All levels',
    'dash.scope': 'Unit',
    'dash.show': 'Show report',
    'dash.csv': 'Download CSV',
    'dash.loading': 'Loading the report…',
    'dash.loaded': 'Report for {period} loaded.',
    'dash.badPeriod': 'The period is not valid: {reason}',
    'dash.badYear': 'the year needs four digits',
    'dash.badRange': 'choose both days, the last one not before the first',
    'dash.heading': 'Period {period}',
    'dash.range': '{first} to {last}, Vietnam time',
    'dash.province': 'All units',
    'dash.breadcrumb': 'Report scope',
    'dash.issued': 'Documents issued',
    'dash.declared': 'Declared signed',
    'dash.verified': 'Verified signed',
    'dash.gap': 'Gap',
    'dash.points': '{v} points',
    'dash.documents': '{n} documents',
    'dash.unverified': '{n} documents declared signed that kyso has not verified',
    'dash.byLevel': 'By level',
    'dash.byUnit': 'By unit: lowest declared rates',
    'dash.byUnitAll': 'By unit',
    'dash.showAll': 'Show all {n} units',
    'dash.showFewer': 'Show only the {n} lowest',
    'dash.trend': 'Trend by month',
    'dash.trendWider': 'The period is shorter than two months: the chart shows the 12 months to its end ({period}).',
    'dash.trendCut': 'The period is longer than {n} months: the chart shows its last {n} months ({period}).',
    'dash.methods': 'Signing method',
    'dash.signatures': 'Signatures',
    'dash.legend.declared': 'Declared signed (reported by the document system)',
    'dash.legend.verified': 'Verified signed (kyso found a valid signature)',
    'dash.noDocuments': 'no documents',
    'dash.noData': 'No data in this period.',
    'dash.tableView': 'Show the figures as a table',
    'dash.chartLabel': '{title}: {n} rows, the figures are in the table below the chart',
    'dash.units': 'Units',
    'dash.filter': 'Filter by unit name or code',
    'dash.filterCount': 'Showing {shown} of {total} units',
    'col.unit': 'Unit',
    'col.units': 'Units',
    'col.level': 'Level',
    'col.issued': 'Issued',
    'col.declared': 'Declared signed',
    'col.verified': 'Verified signed',
    'col.gap': 'Gap (points)',
    'col.total': 'Including units below',
    'col.month': 'Month',
    'col.action': 'Details',
    'col.method': 'Method',
    'dash.drill': 'Open',
    'dash.drillLabel': 'Details and unsigned documents of {name}',
    'dash.unsigned': 'Documents not signed or not verified',
    'dash.unsignedCount': 'Showing {shown} of {total} documents, oldest first.',
    'dash.unsignedNone': 'No document of this unit is unsigned or unverified in the period.',
    'col.documentId': 'Document id',
    'col.number': 'Number',
    'col.type': 'Type',
    'col.issuedAt': 'Issued',
    'col.declaredState': 'Declared',
    'col.verifiedState': 'Verified by kyso',
    'declared.signed': 'signed',
    'declared.unsigned': 'unsigned',
    'verified.yes': 'valid signature',
    'verified.no': 'not verified',
    'dash.back': 'Back to all units',
    'dash.up': 'Up to the parent unit ({name})',
    'dash.note': 'Declared: the document-management software said the document was signed. Verified: kyso found a valid (TOTAL-PASSED) signature on it, when signing or in an archive audit. A unit that issued nothing in the period shows "—", not 0%.',
    'dash.csvSaved': 'Downloaded {name}.',
    'dash.csvNothing': 'There is no report to download yet: choose “Show report” first.',

    'sign.title': 'Sign a document',
    'sign.lead': "Sign a PDF or XML document with your unit's signing key. The signature is recorded in the signing-rate ledger and the audit log.",
    'sign.file': 'Document (PDF or XML)',
    'sign.key': 'Signing key',
    'sign.keyOption': '{name} — unit {unit} ({method})',
    'sign.documentId': 'Document id in the document-management software (optional)',
    'sign.reason': 'Reason for signing (optional)',
    'sign.submit': 'Sign',
    'sign.signing': 'Signing {name}…',
    'sign.done': 'Signed {name}. Verification of the signed document: {verdict}',
    'sign.download': 'Download the signed document',
    'sign.noFile': 'Choose the document to sign.',
    'sign.badType': 'Only PDF and XML files can be signed.',
    'sign.noKeys': 'No signing key is configured for your units.',
  },
};

const LANG_KEY = 'kyso.lang';
let current = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'vi';
let verdictWords = null;
let levelWords = null;

export function lang() {
  return current;
}

export function setLang(next) {
  current = next === 'en' ? 'en' : 'vi';
  localStorage.setItem(LANG_KEY, current);
}

/** The string `key` in the current language, with {name} placeholders filled in. */
export function t(key, params = {}) {
  const table = STRINGS[current];
  let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : null;
  if (text === null) {
    console.error(`missing string ${current}:${key}`);
    text = key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
}

/** Whether `key` has a string (for values such as revocation texts that may be unknown). */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(STRINGS[current], key);
}

/** Updates the static text of the page: data-i18n (text), data-i18n-aria-label. */
export function applyStatic(root = document) {
  document.documentElement.lang = current;
  document.title = t('app.title');
  for (const node of root.querySelectorAll('[data-i18n]')) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const node of root.querySelectorAll('[data-i18n-aria-label]')) {
    node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel));
  }
}

/** Loads the verdict words and level names the service serves (made from its own tables). */
export async function loadWords() {
  const [verdicts, levels] = await Promise.all([
    fetch('/web/verdict-words.json', { credentials: 'omit' }).then((r) => r.json()),
    fetch('/web/levels.json', { credentials: 'omit' }).then((r) => r.json()),
  ]);
  verdictWords = verdicts;
  levelWords = levels;
}

/** "HỢP LỆ — chữ ký số đúng và tin cậy" for TOTAL-PASSED, as `kyso verify` says it. */
export function indicationWords(indication) {
  return (verdictWords && verdictWords[current].indication[indication]) || indication;
}

/** A reason or note of the report in the page's language: `{code, message, message_vi}`. */
export function reasonText(reason) {
  if (typeof reason === 'string') return reason;
  return current === 'vi' ? reason.message_vi : reason.message;
}

export function subIndicationWords(sub) {
  return (verdictWords && verdictWords[current].sub_indication[sub]) || sub;
}

/** The levels of the unit hierarchy: [{key, label}] in the current language. */
export function levels() {
  return (levelWords || []).map((l) => ({ key: l.key, label: current === 'vi' ? l.label_vi : l.label_en }));
}

export function levelLabel(key) {
  const found = levels().find((l) => l.key === key);
  return found ? found.label : key;
}

const locale = () => (current === 'vi' ? 'vi-VN' : 'en-GB');

/** 44000 → "44.000" (vi) or "44,000" (en). */
export function count(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

/** A rate in percent with one decimal, as the report prints it; null (nothing issued) is "—". */
export function percent(rate) {
  if (rate === null || rate === undefined) return '—';
  return `${decimal(rate)}%`;
}

export function decimal(value) {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);
}

// Vietnam has kept UTC+7 without daylight saving since 1975 (as kyso's ledger assumes), so a
// fixed offset is exact and no time-zone database is needed.
const VIETNAM_MS = 7 * 3600 * 1000;

function vietnamParts(text) {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  const d = new Date(ms + VIETNAM_MS);
  const two = (n) => String(n).padStart(2, '0');
  return {
    day: `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`,
    time: `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`,
  };
}

/** An RFC 3339 time as "29/11/2026 02:43:36 (UTC+7)". */
export function dateTime(text) {
  const parts = vietnamParts(text);
  return parts ? `${parts.day} ${parts.time} (UTC+7)` : String(text);
}

/** An RFC 3339 time as its Vietnamese day, "29/11/2026". */
export function date(text) {
  const parts = vietnamParts(text);
  return parts ? parts.day : String(text);
}

/** A local day "2022-06-30" as "30/06/2022". */
export function day(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
  return m ? `${m[3]}/${m[2]}/${m[1]}` : String(text);
}
