//! The market event the till takes sales for, shared by Sell and Scan: what the seller
//! picked on this device while the app is open, else the event running today
//! ([`printstall_core::domain::event_report::event_running_on`]).

use std::cell::Cell;

use printstall_core::domain::MarketEventId;
use printstall_core::domain::event_report::event_running_on;
use time::Date;
use yew::prelude::*;

use crate::store::queries::EventRow;

/// What the seller picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Nothing yet: the event running today, if any.
    Today,
    /// Sales for no event.
    NoEvent,
    /// This event.
    Event(MarketEventId),
}

thread_local! {
    static CHOICE: Cell<Choice> = const { Cell::new(Choice::Today) };
}

/// The event sales are taken for, from `choice` and the shop's `events`. A picked event
/// that is gone falls back to today's.
pub fn resolve(choice: Choice, events: &[EventRow], today: Date) -> Option<&EventRow> {
    let running = || {
        let id = event_running_on(
            events.iter().filter_map(|e| {
                let start = e.starts_on?;
                Some((e.id, start, e.ends_on.unwrap_or(start)))
            }),
            today,
        )?;
        events.iter().find(|e| e.id == id)
    };
    match choice {
        Choice::NoEvent => None,
        Choice::Event(id) => events.iter().find(|e| e.id == id).or_else(running),
        Choice::Today => running(),
    }
}

/// The seller's choice and a callback that changes it (for every screen of the till).
#[hook]
pub fn use_sell_event() -> (Choice, Callback<Choice>) {
    let choice = use_state(|| CHOICE.with(Cell::get));
    let set = {
        let choice = choice.clone();
        Callback::from(move |c: Choice| {
            CHOICE.with(|cell| cell.set(c));
            choice.set(c);
        })
    };
    (*choice, set)
}
