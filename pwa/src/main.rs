//! PrintStall's web app: a Yew client-side app using `printstall-core` in the browser.

mod app;
mod components;
mod hooks;
mod pages;
mod route;
mod slice_blob;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
