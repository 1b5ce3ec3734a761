//! PrintStall's web app: a Yew client-side app using `printstall-core` in the browser.

mod api;
mod app;
mod components;
mod hooks;
mod local;
mod pages;
mod route;
mod slice_blob;
mod store;
mod sync;
mod time_zones;
mod uploads;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
