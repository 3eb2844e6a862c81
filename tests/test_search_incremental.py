"""Incremental re-indexing is invisible to search: after edits, deletions, additions and a
rename, an index brought up to date run by run answers every query exactly as an index built
from scratch on the final tree does, chunk by chunk and file by file, lexically and in hybrid
mode with a deterministic embedder. Left out: timing, and which files a run re-reads (the
indexer's own tests cover that)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextos import Workspace
from tests.conftest import HashingEmbedder, RepoMaker, git, write_files

BEFORE = {
    "billing/__init__.py": "from billing.invoice import Invoice, total_due\n",
    "billing/invoice.py": (
        "from billing.tax import compute_tax\n"
        "from billing.customer import Customer\n\n\n"
        "class Invoice:\n"
        '    """An invoice for one customer, with lines and tax."""\n\n'
        "    def __init__(self, customer: Customer, lines: list[tuple[str, float]]):\n"
        "        self.customer = customer\n"
        "        self.lines = lines\n\n"
        "    def subtotal(self) -> float:\n"
        "        return sum(amount for _, amount in self.lines)\n\n"
        "    def total(self) -> float:\n"
        "        return self.subtotal() + compute_tax(self.subtotal(), self.customer.region)\n\n\n"
        "def total_due(invoices: list[Invoice]) -> float:\n"
        "    return sum(invoice.total() for invoice in invoices)\n"
    ),
    "billing/tax.py": (
        "RATES = {'eu': 0.2, 'us': 0.07}\n\n\n"
        "def compute_tax(amount: float, region: str) -> float:\n"
        '    """Sales tax owed on an amount in a region."""\n'
        "    return round(amount * RATES.get(region, 0.0), 2)\n"
    ),
    "billing/customer.py": (
        "class Customer:\n"
        "    def __init__(self, name: str, region: str, email: str):\n"
        "        self.name = name\n"
        "        self.region = region\n"
        "        self.email = email\n\n"
        "    def greeting(self) -> str:\n"
        "        return f'Dear {self.name}'\n"
    ),
    "billing/refunds.py": (
        "from billing.invoice import Invoice\n\n\n"
        "def refund_payment(invoice: Invoice, reason: str) -> float:\n"
        '    """Give a customer their money back for a paid invoice."""\n'
        "    if not reason:\n"
        "        raise ValueError('a refund needs a reason')\n"
        "    return -invoice.total()\n"
    ),
    "server/handler.go": (
        "package server\n\n"
        'import "net/http"\n\n'
        "// HandleInvoice serves one invoice as JSON.\n"
        "func HandleInvoice(w http.ResponseWriter, r *http.Request) {\n"
        '\tinv, err := LoadInvoice(r.URL.Query().Get("id"))\n'
        "\tif err != nil {\n"
        "\t\thttp.Error(w, err.Error(), http.StatusNotFound)\n"
        "\t\treturn\n"
        "\t}\n"
        "\twriteJSON(w, inv)\n"
        "}\n"
    ),
    "server/router.go": (
        "package server\n\n"
        'import "net/http"\n\n'
        "// NewRouter wires the invoice endpoints.\n"
        "func NewRouter() *http.ServeMux {\n"
        "\tmux := http.NewServeMux()\n"
        '\tmux.HandleFunc("/invoice", HandleInvoice)\n'
        '\tmux.HandleFunc("/invoices", HandleList)\n'
        "\treturn mux\n"
        "}\n\n"
        "func HandleList(w http.ResponseWriter, r *http.Request) {\n"
        "\twriteJSON(w, ListInvoices())\n"
        "}\n"
    ),
    "server/store.go": (
        "package server\n\n"
        "type Invoice struct {\n"
        "\tID    string\n"
        "\tTotal float64\n"
        "}\n\n"
        "var invoices = map[string]Invoice{}\n\n"
        "// LoadInvoice finds a stored invoice by id.\n"
        "func LoadInvoice(id string) (Invoice, error) {\n"
        "\tinv, ok := invoices[id]\n"
        "\tif !ok {\n"
        "\t\treturn Invoice{}, ErrNotFound\n"
        "\t}\n"
        "\treturn inv, nil\n"
        "}\n\n"
        "// ListInvoices returns every stored invoice.\n"
        "func ListInvoices() []Invoice {\n"
        "\tout := make([]Invoice, 0, len(invoices))\n"
        "\tfor _, inv := range invoices {\n"
        "\t\tout = append(out, inv)\n"
        "\t}\n"
        "\treturn out\n"
        "}\n"
    ),
    "lib/mailer.rb": (
        "require_relative 'formatter'\n\n"
        "class Mailer\n"
        "  def initialize(smtp)\n"
        "    @smtp = smtp\n"
        "  end\n\n"
        "  # Sends the monthly report email to a customer.\n"
        "  def send_monthly_report(customer, report)\n"
        "    body = Formatter.new.format_currency(report.total)\n"
        "    @smtp.deliver(customer.email, 'Your monthly report', body)\n"
        "  end\n"
        "end\n"
    ),
    "lib/report.rb": (
        "class Report\n"
        "  attr_reader :invoices\n\n"
        "  def initialize(invoices)\n"
        "    @invoices = invoices\n"
        "  end\n\n"
        "  def total\n"
        "    invoices.sum(&:total)\n"
        "  end\n"
        "end\n"
    ),
    "lib/formatter.rb": (
        "class Formatter\n"
        "  # Formats an amount of money with two decimals and a currency sign.\n"
        "  def format_currency(amount, sign = '$')\n"
        "    format('%s%.2f', sign, amount)\n"
        "  end\n\n"
        "  def format_date(date)\n"
        "    date.strftime('%Y-%m-%d')\n"
        "  end\n"
        "end\n"
    ),
    "web/Controller.php": (
        "<?php\n\n"
        "class InvoiceController\n"
        "{\n"
        "    public function show(string $id): string\n"
        "    {\n"
        "        $invoice = InvoiceRepository::find($id);\n"
        "        return (new View())->renderInvoice($invoice);\n"
        "    }\n"
        "}\n"
    ),
    "web/View.php": (
        "<?php\n\n"
        "class View\n"
        "{\n"
        "    /** Renders the invoice page as HTML. */\n"
        "    public function renderInvoice(array $invoice): string\n"
        "    {\n"
        "        return '<h1>Invoice ' . htmlspecialchars($invoice['id']) . '</h1>';\n"
        "    }\n"
        "}\n"
    ),
    "README.md": (
        "# Invoicing\n\n"
        "Bills customers, computes sales tax, refunds payments and mails monthly reports.\n"
    ),
}

CHANGED = {
    "billing/tax.py": (
        "RATES = {'eu': 0.2, 'us': 0.07, 'uk': 0.2}\n"
        "EXEMPT = {'charity'}\n\n\n"
        "def compute_tax(amount: float, region: str, category: str = '') -> float:\n"
        '    """Sales tax owed on an amount in a region, unless the category is exempt."""\n'
        "    if apply_vat_exemption(category):\n"
        "        return 0.0\n"
        "    return round(amount * RATES.get(region, 0.0), 2)\n\n\n"
        "def apply_vat_exemption(category: str) -> bool:\n"
        "    return category in EXEMPT\n"
    ),
    "server/handler.go": (
        "package server\n\n"
        'import "net/http"\n\n'
        "// HandleInvoice serves one invoice as JSON and records how long it took.\n"
        "func HandleInvoice(w http.ResponseWriter, r *http.Request) {\n"
        '\tdefer RecordLatency("invoice")()\n'
        '\tinv, err := LoadInvoice(r.URL.Query().Get("id"))\n'
        "\tif err != nil {\n"
        "\t\thttp.Error(w, err.Error(), http.StatusNotFound)\n"
        "\t\treturn\n"
        "\t}\n"
        "\twriteJSON(w, inv)\n"
        "}\n\n"
        "// HandleRefund refunds an invoice.\n"
        "func HandleRefund(w http.ResponseWriter, r *http.Request) {\n"
        '\tRefundInvoice(r.URL.Query().Get("id"))\n'
        "\tw.WriteHeader(http.StatusNoContent)\n"
        "}\n"
    ),
    "lib/report.rb": (
        "class Report\n"
        "  attr_reader :invoices\n\n"
        "  def initialize(invoices)\n"
        "    @invoices = invoices\n"
        "  end\n\n"
        "  def total\n"
        "    invoices.sum(&:total)\n"
        "  end\n\n"
        "  # The largest invoice of the month, for the summary line.\n"
        "  def largest_invoice\n"
        "    invoices.max_by(&:total)\n"
        "  end\n"
        "end\n"
    ),
}

ADDED = {
    "billing/discounts.py": (
        "from billing.customer import Customer\n\n\n"
        "def loyalty_discount(customer: Customer, years: int) -> float:\n"
        '    """Discount percentage for a customer who stayed for some years."""\n'
        "    return min(years * 0.01, 0.1)\n"
    ),
    "server/metrics.go": (
        "package server\n\n"
        'import "time"\n\n'
        "// RecordLatency starts a timer for an endpoint; call the result when done.\n"
        "func RecordLatency(endpoint string) func() {\n"
        "\tstart := time.Now()\n"
        "\treturn func() { observe(endpoint, time.Since(start)) }\n"
        "}\n"
    ),
}

DELETED = "web/View.php"
RENAMED = ("lib/formatter.rb", "lib/text_formatter.rb")

QUERIES = [
    "compute_tax",
    "apply_vat_exemption",
    "HandleInvoice",
    "RecordLatency",
    "format_currency",
    "Formatter",
    "loyalty_discount customer years",
    "refund a customer payment",
    "send the monthly report email",
    "render the invoice page as html",
    "largest invoice of the month",
    "how long a request took latency",
    "tax.py",
    "text_formatter.rb",
    "View.php renderInvoice",
    "invoice store ListInvoices",
]


def _edit(repo: Path) -> None:
    write_files(repo, CHANGED | ADDED)
    (repo / DELETED).unlink()
    (repo / RENAMED[0]).rename(repo / RENAMED[1])
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "edit")


def _answers(ws: Workspace) -> dict[str, tuple[list[tuple[object, ...]], list[str]]]:
    out = {}
    for q in QUERIES:
        chunks = [(h.path, h.start_line, h.end_line, h.symbol, h.kind) for h in ws.search(q, k=10)]
        files = [h.path for h in ws.search(q, k=10, files=True)]
        out[q] = (chunks, files)
    return out


def _contents(ws: Workspace) -> list[tuple[object, ...]]:
    """Every chunk and symbol row without its rowid, the one thing history may change."""
    chunks = ws.conn.execute(
        "SELECT path, start_line, end_line, symbol, kind, language, context, text, vector"
        " FROM chunks ORDER BY path, start_line, end_line, symbol"
    ).fetchall()
    symbols = ws.conn.execute(
        "SELECT s.name, s.path, s.kind, c.start_line FROM symbols s JOIN chunks c"
        " ON c.id = s.chunk_id ORDER BY s.path, c.start_line, s.name, s.kind"
    ).fetchall()
    return [tuple(r) for r in chunks] + [tuple(r) for r in symbols]


def _incremental_and_fresh(
    repo: Path, fresh_db: Path, embedder: HashingEmbedder | None
) -> tuple[Workspace, Workspace, dict[str, tuple[list[tuple[object, ...]], list[str]]]]:
    """Index ``repo``, search it (warming whatever a workspace keeps between runs), edit it and
    re-index; then index the final tree from scratch into ``fresh_db``."""
    embed = embedder is not None
    ws = Workspace(repo, embedder=embedder)
    ws.index(embed=embed, model="no")
    before = _answers(ws)
    _edit(repo)
    summary = ws.index(embed=embed, model="no")
    assert (summary.files_added, summary.files_changed, summary.files_deleted) == (3, 3, 2)
    fresh = Workspace(repo, db_path=fresh_db, embedder=embedder)
    fresh.index(embed=embed, model="no")
    return ws, fresh, before


FINAL = sorted((set(BEFORE) - {DELETED, RENAMED[0]}) | set(ADDED) | {RENAMED[1]})
EMBEDDERS = pytest.mark.parametrize(
    "embedder", [None, HashingEmbedder()], ids=["lexical", "hybrid-hashing"]
)


@EMBEDDERS
def test_incremental_reindex_stores_what_a_fresh_index_stores(
    make_repo: RepoMaker, tmp_path: Path, embedder: HashingEmbedder | None
) -> None:
    ws, fresh, _ = _incremental_and_fresh(make_repo(BEFORE), tmp_path / "fresh.db", embedder)
    with ws, fresh:
        assert ws.verify() == []
        assert fresh.verify() == []
        assert ws.indexed_paths() == fresh.indexed_paths() == FINAL
        assert _contents(ws) == _contents(fresh)
        assert ws.status()["embedded_chunks"] == fresh.status()["embedded_chunks"]


@EMBEDDERS
def test_incremental_reindex_answers_like_a_fresh_index(
    make_repo: RepoMaker, tmp_path: Path, embedder: HashingEmbedder | None
) -> None:
    repo = make_repo(BEFORE)
    ws, fresh, before = _incremental_and_fresh(repo, tmp_path / "fresh.db", embedder)
    with ws, fresh:
        incremental = _answers(ws)
        expected = _answers(fresh)
    with Workspace(repo, embedder=embedder) as reopened:
        assert _answers(reopened) == incremental
    assert incremental != before  # the edits are visible to search at all
    assert incremental == expected
