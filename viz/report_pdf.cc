// ReportPdf: the audit report laid out with cairo and pango, page by page.
#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "viz/audit_report.h"

namespace tributary {
namespace {

// A4 landscape, in points: wide tables need the width.
constexpr double kPageWidth = 842;
constexpr double kPageHeight = 595;
constexpr double kMargin = 36;
constexpr double kContentWidth = kPageWidth - 2 * kMargin;
constexpr double kFooter = 18;
constexpr double kCellPad = 3;

struct CairoDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
struct GObjectDeleter {
  void operator()(void* o) const { g_object_unref(o); }
};
struct FontDeleter {
  void operator()(PangoFontDescription* f) const { pango_font_description_free(f); }
};

class PdfWriter {
 public:
  explicit PdfWriter(std::string* out) : out_(out) {
    surface_.reset(
        cairo_pdf_surface_create_for_stream(&PdfWriter::Write, this, kPageWidth, kPageHeight));
    cr_.reset(cairo_create(surface_.get()));
    layout_.reset(pango_cairo_create_layout(cr_.get()));
    pango_layout_set_wrap(layout_.get(), PANGO_WRAP_WORD_CHAR);
    y_ = kMargin;
    page_ = 1;
  }

  bool ok() const {
    return cairo_surface_status(surface_.get()) == CAIRO_STATUS_SUCCESS &&
           cairo_status(cr_.get()) == CAIRO_STATUS_SUCCESS;
  }

  // Lays out `text` at `x` with `width`, in `font`; returns its height without drawing when
  // `draw` is false.
  double Text(const std::string& text, const char* font, double x, double width, bool draw,
              double r = 0.12, double g = 0.16, double b = 0.2) {
    std::unique_ptr<PangoFontDescription, FontDeleter> desc(
        pango_font_description_from_string(font));
    pango_layout_set_font_description(layout_.get(), desc.get());
    pango_layout_set_width(layout_.get(), static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_text(layout_.get(), text.data(), static_cast<int>(text.size()));
    int w = 0, h = 0;
    pango_layout_get_size(layout_.get(), &w, &h);
    if (draw) {
      cairo_set_source_rgb(cr_.get(), r, g, b);
      cairo_move_to(cr_.get(), x, y_);
      pango_cairo_show_layout(cr_.get(), layout_.get());
    }
    return static_cast<double>(h) / PANGO_SCALE;
  }

  // Writes a paragraph, starting a page when it does not fit.
  void Paragraph(const std::string& text, const char* font, double space_after) {
    double h = Text(text, font, kMargin, kContentWidth, false);
    Ensure(h);
    Text(text, font, kMargin, kContentWidth, true);
    y_ += h + space_after;
  }

  void Ensure(double height) {
    if (y_ + height > kPageHeight - kMargin - kFooter && y_ > kMargin) NewPage();
  }

  void NewPage() {
    Footer();
    cairo_show_page(cr_.get());
    ++page_;
    y_ = kMargin;
  }

  void Footer() {
    double saved = y_;
    y_ = kPageHeight - kMargin + 4;
    Text(footer_ + "  ·  page " + std::to_string(page_), "DejaVu Sans 7", kMargin, kContentWidth,
         true, 0.4, 0.45, 0.5);
    y_ = saved;
  }

  void Finish() {
    Footer();
    cairo_show_page(cr_.get());
    cr_.reset();
    cairo_surface_finish(surface_.get());
  }

  // A PNG image scaled to the content width (and at most most of a page).
  void Image(const std::string& png) {
    struct Reader {
      const std::string* data;
      size_t pos = 0;
    } reader{&png};
    auto read = [](void* closure, unsigned char* buf, unsigned int len) {
      auto* r = static_cast<Reader*>(closure);
      if (r->pos + len > r->data->size()) return CAIRO_STATUS_READ_ERROR;
      std::memcpy(buf, r->data->data() + r->pos, len);
      r->pos += len;
      return CAIRO_STATUS_SUCCESS;
    };
    std::unique_ptr<cairo_surface_t, CairoDeleter> img(
        cairo_image_surface_create_from_png_stream(read, &reader));
    if (cairo_surface_status(img.get()) != CAIRO_STATUS_SUCCESS) return;
    double w = cairo_image_surface_get_width(img.get());
    double h = cairo_image_surface_get_height(img.get());
    double max_h = kPageHeight - 2 * kMargin - kFooter - 20;
    double scale = std::min({kContentWidth / w, max_h / h, 1.0});
    Ensure(h * scale);
    cairo_save(cr_.get());
    cairo_translate(cr_.get(), kMargin, y_);
    cairo_scale(cr_.get(), scale, scale);
    cairo_set_source_surface(cr_.get(), img.get(), 0, 0);
    cairo_paint(cr_.get());
    cairo_restore(cr_.get());
    y_ += h * scale + 10;
  }

  void Table(const ReportTable& t) {
    Ensure(60);  // the title, the header and a row or two together
    Paragraph(t.title + "  (" + std::to_string(t.rows.size()) + " rows)", "DejaVu Sans Bold 11", 4);
    if (t.rows.empty()) {
      Paragraph("None.", "DejaVu Sans 8", 8);
      return;
    }
    // Column widths follow the longest cell, within bounds, to fill the width.
    std::vector<double> want(t.columns.size(), 0);
    for (size_t c = 0; c < t.columns.size(); ++c) {
      want[c] = std::max<double>(want[c], t.columns[c].size());
      for (size_t i = 0; i < t.rows.size() && i < 500; ++i) {
        want[c] = std::max<double>(want[c], std::min<size_t>(t.rows[i][c].size(), 80));
      }
      want[c] = std::max(want[c], 6.0);
    }
    double total = 0;
    for (double w : want) total += w;
    std::vector<double> width;
    for (double w : want) width.push_back(kContentWidth * w / total);
    const char* font = "DejaVu Sans 7";
    const char* bold = "DejaVu Sans Bold 7";
    auto row_height = [&](const std::vector<std::string>& cells, const char* f) {
      double h = 0;
      for (size_t c = 0; c < cells.size(); ++c) {
        h = std::max(h, Text(cells[c], f, 0, width[c] - 2 * kCellPad, false));
      }
      return h + 2 * kCellPad;
    };
    auto draw_row = [&](const std::vector<std::string>& cells, const char* f, double h,
                        bool header) {
      double x = kMargin;
      for (size_t c = 0; c < cells.size(); ++c) {
        cairo_rectangle(cr_.get(), x, y_, width[c], h);
        if (header) {
          cairo_set_source_rgb(cr_.get(), 0.94, 0.96, 0.97);
          cairo_fill_preserve(cr_.get());
        }
        cairo_set_source_rgb(cr_.get(), 0.85, 0.88, 0.92);
        cairo_set_line_width(cr_.get(), 0.5);
        cairo_stroke(cr_.get());
        double saved = y_;
        y_ += kCellPad;
        Text(cells[c], f, x + kCellPad, width[c] - 2 * kCellPad, true);
        y_ = saved;
        x += width[c];
      }
      y_ += h;
    };
    double header_h = row_height(t.columns, bold);
    Ensure(header_h * 2);
    draw_row(t.columns, bold, header_h, true);
    for (const auto& row : t.rows) {
      double h = row_height(row, font);
      if (y_ + h > kPageHeight - kMargin - kFooter) {
        NewPage();
        draw_row(t.columns, bold, header_h, true);  // the header again on each page
      }
      draw_row(row, font, h, false);
    }
    y_ += 12;
  }

  void set_footer(std::string f) { footer_ = std::move(f); }
  int pages() const { return page_; }

 private:
  static cairo_status_t Write(void* closure, const unsigned char* data, unsigned int len) {
    static_cast<PdfWriter*>(closure)->out_->append(reinterpret_cast<const char*>(data), len);
    return CAIRO_STATUS_SUCCESS;
  }

  std::string* out_;
  std::unique_ptr<cairo_surface_t, CairoDeleter> surface_;
  std::unique_ptr<cairo_t, CairoDeleter> cr_;
  std::unique_ptr<PangoLayout, GObjectDeleter> layout_;
  std::string footer_;
  double y_ = 0;
  int page_ = 1;
};

}  // namespace

Result<std::string> ReportPdf(const AuditReport& report) {
  std::vector<std::string> images;
  for (const auto& d : report.diagrams) {
    TRIB_ASSIGN_OR_RETURN(std::string png, RenderDiagram(d, DiagramFormat::kPng));
    images.push_back(std::move(png));
  }
  std::string out;
  {
    PdfWriter pdf(&out);
    pdf.set_footer(report.title + "  ·  content sha256 " + report.content_sha256.substr(0, 16));
    pdf.Paragraph(report.title, "DejaVu Sans Bold 16", 8);
    for (const auto& [k, v] : report.evidence) pdf.Paragraph(k + ":  " + v, "DejaVu Sans 9", 2);
    for (size_t i = 0; i < images.size(); ++i) {
      pdf.NewPage();
      pdf.Paragraph(report.diagrams[i].title, "DejaVu Sans Bold 11", 6);
      pdf.Image(images[i]);
    }
    pdf.NewPage();
    for (const auto& t : report.tables) pdf.Table(t);  // tables flow on, page after page
    if (!pdf.ok()) return Status::Internal("cairo could not write the PDF");
    pdf.Finish();
  }
  return out;
}

}  // namespace tributary
