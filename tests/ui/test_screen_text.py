"""What the main windows show on demo data, read as a person reads it: no ISO date
("2026-03-01"), no lowercase enum value ("key_account", "lead"), phones formatted, dates and
counts from the locale; and Today's painted rows in the dark theme are dark with light text.

The Today rows are painted (no widget per row), so their text is read by painting each row
through the real delegate onto a painter that records what it draws."""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum

import phonenumbers
import pytest
from PySide6.QtCore import QLocale, QRect, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QAbstractButton, QLabel, QStyle, QStyleOptionViewItem, QWidget

from crmcompanion.core import customer as core_customer
from crmcompanion.core import occasions, touchpoints
from crmcompanion.core.settings import MAP_SERVICE
from crmcompanion.services.demo import fill_demo, generate_drafts
from crmcompanion.ui import formatting
from crmcompanion.ui.customer_model import ID_ROLE, PHONE
from crmcompanion.ui.style import DARK, LIGHT, apply_look
from crmcompanion.ui.today_view import AVATAR

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ENUMS: tuple[type[StrEnum], ...] = (
    core_customer.Status, core_customer.Kind, core_customer.Channel,
    core_customer.SpecialDateKind, occasions.Occasion, touchpoints.TouchpointState,
)
ENUM_VALUES = {str(member.value) for enum in ENUMS for member in enum
               if str(member.value).islower()}
# Values that are ordinary English words ("email", "lead", "active") can stand in a sentence;
# alone as the whole text, or joined with "_", they are the raw value.
SNAKE_VALUES = {value for value in ENUM_VALUES if "_" in value}


class RecordingPainter(QPainter):
    """Paints as usual and keeps each text it was asked to draw."""

    def __init__(self, device: QImage) -> None:
        super().__init__(device)
        self.texts: list[str] = []

    def drawText(self, *args: object) -> None:  # type: ignore[override]
        self.texts.extend(arg for arg in args if isinstance(arg, str))
        super().drawText(*args)  # type: ignore[call-overload]


def painted_rows(today) -> list[str]:
    """The texts Today's delegate paints for every row of its model."""
    view = today.list
    image = QImage(QSize(max(view.viewport().width(), 600), 200), QImage.Format.Format_ARGB32)
    texts: list[str] = []
    for row in range(today.model.rowCount()):
        index = today.model.index(row, 0)
        option = QStyleOptionViewItem()
        option.initFrom(view)
        option.rect = QRect(0, 0, image.width(), view.delegate.sizeHint(option, index).height())
        painter = RecordingPainter(image)
        view.delegate.paint(painter, option, index)
        painter.end()
        texts.extend(painter.texts)
    return texts


def widget_texts(root: QWidget) -> list[str]:
    """The visible labels, buttons and tool tips under `root`."""
    texts = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisible():
            continue
        if isinstance(widget, (QLabel, QAbstractButton)) and widget.text():
            texts.append(widget.text())
        if widget.toolTip():
            texts.append(widget.toolTip())
    return texts


def raw_values(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        plain = re.sub(r"<[^>]+>", "", text)  # rich-text labels: their words, not their tags
        plain = re.sub(r'href="[^"]*"', "", plain)
        if ISO_DATE.search(plain):
            found.append(f"ISO date: {text!r}")
        if plain.strip() in ENUM_VALUES or any(value in plain for value in SNAKE_VALUES):
            found.append(f"enum value: {text!r}")
    return found


@pytest.fixture
def demo_window(services, make_window):
    fill_demo(services.db, services.clock, 120, staff_id=services.staff_id)
    return make_window()


@pytest.mark.clock_sensitive
def test_main_windows_on_demo_data_show_no_iso_date_and_no_enum_value(qtbot, demo_window):
    window = demo_window
    today = window.today
    qtbot.waitUntil(lambda: today.model.rowCount() > 3)
    texts = painted_rows(today) + widget_texts(window)
    # The rows were read: their dates are there, written the locale's way.
    assert any(formatting.short_date(today.today + timedelta(days=d)) in text
               for text in texts for d in range(-40, 40)), texts[:40]

    # A touchpoint marked done without a note writes its own summary into the history the
    # profile shows ("Birthday (…)"): it must name the day as people write it.
    done = next(row for row in today.rows() if row.touchpoint.date <= today.today)
    window.services.touchpoints.mark_done(done.touchpoint.key)
    window.open_customer(done.touchpoint.customer_id)
    qtbot.waitUntil(lambda: window.customers.detail.isVisible())
    activity = window.customers.detail.activity
    qtbot.waitUntil(lambda: bool(activity.history_summaries()))
    texts += activity.history_summaries() + activity.upcoming_lines() + widget_texts(window)

    window.show_section(1)  # Customers
    customers = window.customers
    model = customers.model
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    texts += [str(model.index(row, column).data() or "")
              for row in range(min(model.rowCount(), 60)) for column in range(model.columnCount())]
    # A profile: every customer of the demo has a "Customer since" date.
    for row in range(3):
        customer_id = int(model.index(row, 0).data(ID_ROLE))
        window.open_customer(customer_id)
        qtbot.waitUntil(lambda: customers.detail.isVisible())
        shown = widget_texts(window)
        texts += shown
    assert any(text.startswith("Customer since ") for text in texts)
    assert raw_values(texts) == []


def test_every_demo_phone_is_valid_for_its_country_and_shown_formatted() -> None:
    drafts = generate_drafts(400, date(2026, 12, 6))
    numbers = [phone.number for draft in drafts for phone in draft.phones]
    assert len(numbers) >= 400
    invalid = [n for n in numbers if not phonenumbers.is_valid_number(phonenumbers.parse(n))]
    assert invalid == []
    for number in numbers:
        shown = formatting.phone(number)
        assert shown != number and " " in shown, (number, shown)
        assert shown == phonenumbers.format_number(
            phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@pytest.mark.clock_sensitive
def test_demo_phones_show_formatted_in_the_customer_list(qtbot, demo_window):
    demo_window.show_section(1)
    model = demo_window.customers.model
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    shown = [str(model.index(row, PHONE).data()) for row in range(min(model.rowCount(), 40))]
    assert shown and all(text.startswith("+") and " " in text for text in shown), shown


def test_the_address_link_follows_the_map_service_setting(qtbot, services, make_window):
    from crmcompanion.core.customer import CustomerDraft, PostalAddress

    created = services.customers.create(CustomerDraft(
        first_name="Ada", last_name="Lovelace",
        address=PostalAddress(street="Hauptstraße 72", postcode="10115", city="Berlin"),
    )).customer
    services.settings.update({MAP_SERVICE.key: "google"})
    window = make_window()
    window.open_customer(created.id)
    detail = window.customers.detail
    qtbot.waitUntil(lambda: detail.isVisible())
    links = [label.text() for label in detail.findChildren(QLabel)
             if label.objectName() == "contactLink" and "Hauptstra" in label.text()]
    assert links and "google.com/maps" in links[0] and "openstreetmap" not in links[0], links


def test_service_messages_carry_no_iso_date(services) -> None:
    """The snooze limit's refusal, shown as is by the UI, names the day as people write it."""
    from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind
    from crmcompanion.core.errors import ValidationError

    today = services.clock.today()
    past = today - timedelta(days=3)
    services.customers.create(CustomerDraft(
        first_name="Bea", last_name="Late",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, past.month, past.day, 1980),),
    ))
    late = [t for t in services.touchpoints.due() if t.date == past]
    assert late
    with pytest.raises(ValidationError) as refused:
        services.touchpoints.snooze(late[0].key, date(today.year + 1, 12, 31))
    message = str(refused.value)
    assert "overdue list after" in message and not ISO_DATE.search(message), message


@pytest.mark.parametrize("theme_name", ["dark", "light"])
def test_a_today_row_paints_in_the_current_theme(qtbot, qapp, services, make_window,
                                                 theme_name: str) -> None:
    from crmcompanion.core.customer import CustomerDraft, SpecialDate, SpecialDateKind

    soon = services.clock.today() + timedelta(days=0)
    services.customers.create(CustomerDraft(
        first_name="Dora", last_name="Dark",
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, soon.month, soon.day, 1980),),
    ))
    window = make_window()
    try:
        theme = apply_look(qapp, theme_name)
        today = window.today
        qtbot.waitUntil(lambda: any(e.item is not None for e in today.model.entries))
        row = next(i for i, e in enumerate(today.model.entries) if e.item is not None)
        index = today.model.index(row, 0)
        option = QStyleOptionViewItem()
        option.initFrom(today.list)
        option.state &= ~QStyle.StateFlag.State_MouseOver
        height = today.list.delegate.sizeHint(option, index).height()
        image = QImage(QSize(700, height), QImage.Format.Format_ARGB32)
        image.fill(QColor(theme.background))
        option.rect = QRect(0, 0, 700, height)
        painter = QPainter(image)
        today.list.delegate.paint(painter, option, index)
        painter.end()
        image.save(f"/tmp/today_row_{theme_name}.png")
        # The card's background, inside its border, away from the avatar and the text.
        card = QColor(image.pixel(300, height - 8))
        colours = {QColor(image.pixel(x, y)).rgb() for x in range(60, 400)
                   for y in range(4, height - 4)}
        lightest = max(QColor(c).lightness() for c in colours)
        darkest = min(QColor(c).lightness() for c in colours)
        # The initials' circle (left of its letters) and the initials themselves.
        circle = QColor(image.pixel(12 + 6, 14 + AVATAR // 2))
        letters = {QColor(image.pixel(x, y)).lightness() for x in range(12 + 8, 12 + AVATAR - 8)
                   for y in range(14 + 10, 14 + AVATAR - 10)}
        if theme is DARK:
            assert card.lightness() < 80, card.name()
            assert lightest > 170  # the name and the reason: light text on the dark card
            assert circle.lightness() < 100, circle.name()
            assert max(letters) > 150
        else:
            assert theme is LIGHT
            assert card.lightness() > 200, card.name()
            assert darkest < 90
            assert circle.lightness() > 180, circle.name()
            assert min(letters) < 110
    finally:
        apply_look(qapp, "light")
        QLocale.setDefault(QLocale.system())


@pytest.mark.clock_sensitive
def test_today_rows_regain_their_width_after_the_window_narrows_and_widens(qtbot,
                                                                           demo_window):
    window = demo_window
    today = window.today
    qtbot.waitUntil(lambda: any(e.item is not None for e in today.model.entries))
    row = next(i for i, e in enumerate(today.model.entries) if e.item is not None)
    entry = today.model.entries[row]

    def measure() -> tuple[int, QRect, int]:
        qtbot.waitUntil(lambda: today.list.visualRect(today.model.index(row, 0)).width()
                        == today.list.viewport().width())
        rect = today.list.visualRect(today.model.index(row, 0))
        main = today.list.delegate.parts(rect, entry)["main"]
        needed = today.list.fontMetrics().horizontalAdvance(today.list.delegate.main_text(entry))
        return rect.width(), main, needed

    window.resize(1366, 768)
    wide, wide_main, needed = measure()
    window.resize(900, 600)
    narrow, narrow_main, _ = measure()
    assert narrow < wide and narrow_main.width() >= needed
    window.resize(1366, 768)
    again, again_main, needed = measure()
    assert again == wide and again_main == wide_main
    assert again_main.width() >= needed and again_main.right() < again
